package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// A small JSON API behind an API Gateway HTTP API (payload format 2.0):
//
//	GET  /hello?name=Ada       → {"message":"Hello, Ada!"}
//	POST /total  {"items":[{"name":"tea","cents":250,"quantity":2}]}
//	                           → {"items":1,"total_cents":500}
//
// Bad input gets a 4xx answer with {"error": "..."}: a handler error would
// become a 500 from API Gateway and hide the cause from the caller.
func handler(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method, path := req.RequestContext.HTTP.Method, req.RawPath
	switch {
	case path == "/hello" && method == http.MethodGet:
		name := strings.TrimSpace(req.QueryStringParameters["name"])
		if name == "" {
			name = "world"
		}
		if len(name) > 64 {
			return errorResponse(http.StatusBadRequest, "name is longer than 64 characters"), nil
		}
		return jsonResponse(http.StatusOK, map[string]string{"message": "Hello, " + name + "!"})
	case path == "/total" && method == http.MethodPost:
		body, err := requestBody(req)
		if err != nil {
			return errorResponse(http.StatusBadRequest, err.Error()), nil
		}
		total, err := orderTotal(body)
		if err != nil {
			return errorResponse(http.StatusBadRequest, err.Error()), nil
		}
		return jsonResponse(http.StatusOK, total)
	case path == "/hello" || path == "/total":
		return errorResponse(http.StatusMethodNotAllowed, method+" is not allowed on "+path), nil
	}
	return errorResponse(http.StatusNotFound, "no route "+path+": use GET /hello or POST /total"), nil
}

// order is the body of POST /total.
type order struct {
	Items []struct {
		Name     string `json:"name"`
		Cents    int64  `json:"cents"`
		Quantity int64  `json:"quantity"`
	} `json:"items"`
}

type total struct {
	Items      int   `json:"items"`
	TotalCents int64 `json:"total_cents"`
}

// maxLine bounds cents × quantity so that the sum cannot overflow.
const maxLine = 1 << 40

func orderTotal(body []byte) (total, error) {
	var o order
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return total{}, fmt.Errorf("the body is not an order: %v", err)
	}
	if len(o.Items) == 0 {
		return total{}, errors.New("the order has no items")
	}
	var sum int64
	for i, it := range o.Items {
		if it.Cents < 0 || it.Quantity < 1 || it.Cents > maxLine || it.Quantity > maxLine || it.Cents*it.Quantity > maxLine {
			return total{}, fmt.Errorf("item %d (%q): cents must be ≥ 0 and quantity ≥ 1, and their product at most %d", i+1, it.Name, int64(maxLine))
		}
		sum += it.Cents * it.Quantity
	}
	return total{Items: len(o.Items), TotalCents: sum}, nil
}

// requestBody decodes the body API Gateway base64-encodes for binary
// content types.
func requestBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, errors.New("the body is not valid base64")
	}
	return b, nil
}

func jsonResponse(status int, v any) (events.APIGatewayV2HTTPResponse, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(body),
	}, nil
}

func errorResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	resp, _ := jsonResponse(status, map[string]string{"error": msg}) // a map of strings always encodes
	return resp
}
