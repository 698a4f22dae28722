package runtimeapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fnopt/fnopt/verify/runtimeapi"
)

// A function, here played by a goroutine, asks for events and answers
// them; the caller hands events over with Invoke.
func Example() {
	srv := runtimeapi.New(runtimeapi.Options{FunctionName: "hello", Timeout: 3 * time.Second})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Close()

	api := ts.URL + "/2018-06-01/runtime/invocation/"
	go func() { // the function's runtime loop
		for {
			resp, err := http.Get(api + "next")
			if err != nil || resp.StatusCode != http.StatusOK {
				return
			}
			event, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id := resp.Header.Get(runtimeapi.HeaderRequestID)
			answer := append([]byte(`{"echo":`), append(event, '}')...)
			r, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(answer))
			if err != nil {
				return
			}
			r.Body.Close()
		}
	}()

	ctx := context.Background()
	if _, err := srv.WaitNext(ctx); err != nil { // init done
		fmt.Println(err)
		return
	}
	res, err := srv.Invoke(ctx, []byte(`{"hello":"world"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(res.Body), res.Error == nil)
	// Output: {"echo":{"hello":"world"}} true
}
