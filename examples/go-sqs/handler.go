package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go-sqs/internal/events"
)

// handler processes a batch of SQS messages. Messages that fail are
// reported back (ReportBatchItemFailures in template.yaml), so only they
// return to the queue, not the whole batch.
func handler(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range e.Records {
		if err := process(ctx, m); err != nil {
			fmt.Fprintf(os.Stderr, "message %s: %v\n", m.MessageId, err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

// process handles one message; put your work here. An error sends just
// this message back to the queue.
func process(ctx context.Context, m events.SQSMessage) error {
	if strings.TrimSpace(m.Body) == "" {
		return errors.New("empty message body")
	}
	return ctx.Err()
}
