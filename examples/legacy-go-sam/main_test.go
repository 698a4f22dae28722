package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestHandler(t *testing.T) {
	t.Setenv("TAX_RATE", "0.20")
	tests := []struct {
		name   string
		body   string
		status int
		total  float64
	}{
		{"two items", `{"id":"o-1","items":[{"sku":"a","quantity":2,"price":5},{"sku":"b","quantity":1,"price":10}]}`, http.StatusOK, 24},
		{"empty order", `{"id":"o-2"}`, http.StatusOK, 0},
		{"negative price", `{"id":"o-3","items":[{"sku":"a","quantity":1,"price":-1}]}`, http.StatusUnprocessableEntity, 0},
		{"not JSON", `{`, http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := handler(events.APIGatewayProxyRequest{Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.status != http.StatusOK {
				return
			}
			var got Total
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Total != tt.total {
				t.Errorf("total %v, want %v", got.Total, tt.total)
			}
		})
	}
}
