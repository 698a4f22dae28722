package main

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"go-sqs/internal/events"
)

func TestHandler(t *testing.T) {
	// A real SQS event with one message, whose body ("Message Body") is
	// not a payment.
	data, err := os.ReadFile("testdata/event.json")
	if err != nil {
		t.Fatal(err)
	}
	var sample events.SQSEvent
	if err := json.Unmarshal(data, &sample); err != nil {
		t.Fatalf("decoding the sample event: %v", err)
	}
	if len(sample.Records) != 1 || sample.Records[0].MessageId != "MessageID_1" {
		t.Fatalf("sample decoded to %+v", sample)
	}
	msg := func(id, body string) events.SQSMessage {
		m := sample.Records[0]
		m.MessageId, m.Body = id, body
		return m
	}
	failed := func(ids ...string) []events.SQSBatchItemFailure {
		out := []events.SQSBatchItemFailure{}
		for _, id := range ids {
			out = append(out, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		records []events.SQSMessage
		failed  []events.SQSBatchItemFailure
	}{
		{"sample: plain text body", sample.Records, failed("MessageID_1")},
		{"payments", []events.SQSMessage{
			msg("a", `{"order_id":"A-1","cents":1299,"currency":"EUR"}`),
			msg("b", `{"order_id":"A-2","cents":5,"currency":"USD"}`),
		}, failed()},
		{"duplicate delivery is skipped, not failed", []events.SQSMessage{
			msg("a", `{"order_id":"A-1","cents":1299,"currency":"EUR"}`),
			msg("a2", `{"order_id":"A-1","cents":1299,"currency":"EUR"}`),
		}, failed()},
		{"only the bad ones fail", []events.SQSMessage{
			msg("ok", `{"order_id":"A-1","cents":1299,"currency":"EUR"}`),
			msg("no-order", `{"order_id":" ","cents":1,"currency":"EUR"}`),
			msg("zero", `{"order_id":"A-3","cents":0,"currency":"EUR"}`),
			msg("currency", `{"order_id":"A-4","cents":1,"currency":"euro"}`),
			msg("unknown-field", `{"order_id":"A-5","cents":1,"currency":"EUR","tip":1}`),
		}, failed("no-order", "zero", "currency", "unknown-field")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := handler(context.Background(), events.SQSEvent{Records: tc.records})
			if err != nil || !reflect.DeepEqual(resp.BatchItemFailures, tc.failed) {
				t.Errorf("handler = %+v, %v; want failures %+v", resp, err, tc.failed)
			}
		})
	}
}

func TestHandlerOutOfTime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "late", Body: `{"order_id":"A-1","cents":1,"currency":"EUR"}`}}}
	resp, err := handler(ctx, e)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "late" {
		t.Errorf("handler = %+v, %v; want the message reported as failed", resp, err)
	}
}
