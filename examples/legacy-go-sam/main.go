// Command orders is a Lambda function behind API Gateway: it receives an
// order as JSON and answers with its total, tax included.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// Item is one line of an order.
type Item struct {
	SKU      string  `json:"sku"`
	Quantity int     `json:"quantity"`
	Price    float64 `json:"price"`
}

// Order is what the client posts.
type Order struct {
	ID    string `json:"id"`
	Items []Item `json:"items"`
}

// Total is the answer.
type Total struct {
	ID       string  `json:"id"`
	Subtotal float64 `json:"subtotal"`
	Tax      float64 `json:"tax"`
	Total    float64 `json:"total"`
}

func taxRate() float64 {
	r, err := strconv.ParseFloat(os.Getenv("TAX_RATE"), 64)
	if err != nil {
		return 0
	}
	return r
}

func total(o Order, rate float64) (Total, error) {
	t := Total{ID: o.ID}
	for _, it := range o.Items {
		if it.Quantity < 0 || it.Price < 0 {
			return Total{}, fmt.Errorf("item %s: negative quantity or price", it.SKU)
		}
		t.Subtotal += float64(it.Quantity) * it.Price
	}
	t.Tax = t.Subtotal * rate
	t.Total = t.Subtotal + t.Tax
	return t, nil
}

func handler(req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	var o Order
	if err := json.Unmarshal([]byte(req.Body), &o); err != nil {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest, Body: "bad order: " + err.Error()}, nil
	}
	t, err := total(o, taxRate())
	if err != nil {
		return events.APIGatewayProxyResponse{StatusCode: http.StatusUnprocessableEntity, Body: err.Error()}, nil
	}
	body, err := json.Marshal(t)
	if err != nil {
		return events.APIGatewayProxyResponse{}, err
	}
	return events.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/json"}}, nil
}

func main() {
	lambda.Start(handler)
}
