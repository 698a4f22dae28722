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
	// A real SQS event with one message.
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
	bad := sample.Records[0]
	bad.MessageId, bad.Body = "empty", ""
	badFailed := []events.SQSBatchItemFailure{
		{ItemIdentifier: "empty"},
	}
	for _, tc := range []struct {
		name    string
		records []events.SQSMessage
		failed  []events.SQSBatchItemFailure
	}{
		{"sample", sample.Records, []events.SQSBatchItemFailure{}},
		{"one bad message", append(sample.Records, bad), badFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := handler(context.Background(), events.SQSEvent{Records: tc.records})
			if err != nil || !reflect.DeepEqual(resp.BatchItemFailures, tc.failed) {
				t.Errorf("handler = %+v, %v; want failures %+v", resp, err, tc.failed)
			}
		})
	}
}
