// Package events holds the event types this function receives, with the
// same names and JSON fields as github.com/aws/aws-lambda-go/events, so
// code moves between the two without changes. Only the fields most
// functions read are declared; add more as you need them.
package events

// SQSEvent is a batch of messages from an SQS queue.
type SQSEvent struct {
	Records []SQSMessage `json:"Records"`
}

// SQSMessage is one message of the batch.
type SQSMessage struct {
	MessageId              string                         `json:"messageId"` //nolint:revive // aws-lambda-go's name
	ReceiptHandle          string                         `json:"receiptHandle"`
	Body                   string                         `json:"body"`
	Md5OfBody              string                         `json:"md5OfBody"`
	Md5OfMessageAttributes string                         `json:"md5OfMessageAttributes"`
	Attributes             map[string]string              `json:"attributes"`
	MessageAttributes      map[string]SQSMessageAttribute `json:"messageAttributes"`
	EventSourceARN         string                         `json:"eventSourceARN"`
	EventSource            string                         `json:"eventSource"`
	AWSRegion              string                         `json:"awsRegion"`
}

// SQSMessageAttribute is a message attribute set by the sender.
type SQSMessageAttribute struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues [][]byte `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// SQSEventResponse reports the messages that failed, so that only they
// return to the queue (FunctionResponseTypes: ReportBatchItemFailures).
type SQSEventResponse struct {
	BatchItemFailures []SQSBatchItemFailure `json:"batchItemFailures"`
}

// SQSBatchItemFailure names one failed message.
type SQSBatchItemFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}
