//go:build linux

// Command gofloor is the Go counterpart of floor.c: the least a Lambda
// custom runtime written in Go can do. It fetches an event and posts a
// fixed response, forever, with raw system calls: no net, fmt or
// encoding/json, so that what it costs is the Go runtime's own start-up.
// The benchmark uses it to show how close a Go function can get: no Go
// program starts faster than this on the same machine.
//
// It handles only what the benchmark's emulator gives it: an IPv4
// address in AWS_LAMBDA_RUNTIME_API and Content-Length bodies. Its system
// calls are Linux's, where Lambda runs it.
package main

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

func main() {
	api, ok := syscall.Getenv("AWS_LAMBDA_RUNTIME_API")
	if !ok {
		fail("AWS_LAMBDA_RUNTIME_API is not set")
	}
	addr, err := parseAddr(api)
	if err != nil {
		fail(err.Error())
	}
	body := []byte(`{"ok":true}`)
	buf := make([]byte, 64<<10)
	for {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			fail("socket: " + err.Error())
		}
		if err := syscall.Connect(fd, addr); err != nil {
			fail("connect: " + err.Error())
		}
		resp := exchange(fd, buf, []byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: "+api+"\r\n\r\n"))
		id := header(resp, "lambda-runtime-aws-request-id")
		if id == "" {
			fail("no request id in the /next response")
		}
		req := "POST /2018-06-01/runtime/invocation/" + id + "/response HTTP/1.1\r\nHost: " + api +
			"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
		exchange(fd, buf, append([]byte(req), body...))
		syscall.Close(fd)
	}
}

// parseAddr reads "a.b.c.d:port".
func parseAddr(s string) (*syscall.SockaddrInet4, error) {
	i := bytes.LastIndexByte([]byte(s), ':')
	if i < 0 {
		return nil, syscall.EINVAL
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: port}
	for n, part := range bytes.Split([]byte(s[:i]), []byte(".")) {
		v, err := strconv.Atoi(string(part))
		if err != nil || n > 3 || v < 0 || v > 255 {
			return nil, syscall.EINVAL
		}
		sa.Addr[n] = byte(v)
	}
	return sa, nil
}

// exchange writes req and reads one response: headers and a
// Content-Length body.
func exchange(fd int, buf, req []byte) []byte {
	for len(req) > 0 {
		n, err := syscall.Write(fd, req)
		if err != nil || n <= 0 {
			fail("write failed")
		}
		req = req[n:]
	}
	got := 0
	for {
		n, err := syscall.Read(fd, buf[got:])
		if err != nil || n <= 0 {
			fail("read failed")
		}
		got += n
		end := bytes.Index(buf[:got], []byte("\r\n\r\n"))
		if end < 0 {
			continue
		}
		clen, _ := strconv.Atoi(header(buf[:end+2], "content-length"))
		if got >= end+4+clen || got == len(buf) {
			return buf[:got]
		}
	}
}

// header finds a header's value (name in lower case) in a response.
func header(resp []byte, name string) string {
	for _, line := range bytes.Split(resp, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && string(bytes.ToLower(k)) == name {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

func fail(msg string) {
	os.Stderr.WriteString("gofloor: " + msg + "\n")
	os.Exit(1)
}
