package server

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"socialpredict/service"
)

// TestPanicIsAnInternalProblem: a handler's panic is logged with its stack
// and answered with a 500 problem carrying only the request id.
func TestPanicIsAnInternalProblem(t *testing.T) {
	var logs bytes.Buffer
	srv, err := New(DefaultConfig(), Options{Services: &service.Services{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.observe(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secret detail") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/anything", nil))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	id := rec.Header().Get("X-Request-Id")
	if body := rec.Body.String(); !strings.Contains(body, "internal error (request id "+id+")") || strings.Contains(body, "boom") {
		t.Errorf("body %s", body)
	}
	if !strings.Contains(logs.String(), "boom: secret detail") || !strings.Contains(logs.String(), "request_id="+id) {
		t.Errorf("the panic is not logged with the request id:\n%s", logs.String())
	}
}
