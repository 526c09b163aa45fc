package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"

	"socialpredict/server"
	"socialpredict/service"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the registered routes")

// TestOpenAPICommitted: docs/openapi.json is the document the registered
// routes generate (run `go test ./server -run TestOpenAPICommitted -update`
// after changing the API).
func TestOpenAPICommitted(t *testing.T) {
	srv, err := server.New(server.DefaultConfig(), server.Options{Services: &service.Services{}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	const path = "../docs/openapi.json"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("docs/openapi.json is stale: run `go test ./server -run TestOpenAPICommitted -update` and commit it")
	}
}

// TestOpenAPIServed: /openapi.json serves the committed document.
func TestOpenAPIServed(t *testing.T) {
	srv, err := server.New(server.DefaultConfig(), server.Options{Services: &service.Services{}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Body)
	}
	var served, committed any
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &committed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(served, committed) {
		t.Error("/openapi.json differs from docs/openapi.json")
	}
	if v := served.(map[string]any)["openapi"]; v != "3.1.0" {
		t.Errorf("openapi version %v, want 3.1.0", v)
	}
}
