package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"go-sqs/internal/events"
)

// Each message is a payment to record:
//
//	{"order_id": "A-1001", "cents": 1299, "currency": "EUR"}
//
// handler processes the batch. Messages that fail are reported back
// (ReportBatchItemFailures in template.yaml), so only they return to the
// queue (and, after maxReceiveCount tries, to its dead-letter queue), not
// the whole batch.
func handler(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	seen := map[string]bool{}
	for _, m := range e.Records {
		p, err := process(ctx, m, seen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "message %s: %v\n", m.MessageId, err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		if p != nil {
			// One JSON line per payment: CloudWatch Logs Insights can
			// query it (fields order_id, cents).
			line, _ := json.Marshal(p) // a struct of strings and ints always encodes
			fmt.Println(string(line))
		}
	}
	return resp, nil
}

// payment is the body of a message.
type payment struct {
	OrderID  string `json:"order_id"`
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

// process checks one message. A payment seen earlier in the batch (SQS
// standard queues deliver at least once) is skipped: it gives nil and no
// error. An error sends just this message back to the queue.
func process(ctx context.Context, m events.SQSMessage, seen map[string]bool) (*payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // out of time: let SQS redeliver the rest
	}
	var p payment
	dec := json.NewDecoder(strings.NewReader(m.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("the body is not a payment: %v", err)
	}
	switch {
	case strings.TrimSpace(p.OrderID) == "":
		return nil, errors.New("order_id is empty")
	case p.Cents <= 0:
		return nil, fmt.Errorf("order %s: cents must be positive, not %d", p.OrderID, p.Cents)
	case len(p.Currency) != 3 || strings.ToUpper(p.Currency) != p.Currency:
		return nil, fmt.Errorf("order %s: currency %q is not an ISO 4217 code like EUR", p.OrderID, p.Currency)
	}
	if seen[p.OrderID] {
		return nil, nil
	}
	seen[p.OrderID] = true
	return &p, nil
}
