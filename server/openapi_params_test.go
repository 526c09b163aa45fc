package server_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"socialpredict/server"
	"socialpredict/service"
)

// operations returns every operation of the OpenAPI document by
// "METHOD path".
func operations(doc *huma.OpenAPI) map[string]*huma.Operation {
	out := map[string]*huma.Operation{}
	for path, item := range doc.Paths {
		for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put,
			"PATCH": item.Patch, "DELETE": item.Delete, "HEAD": item.Head, "OPTIONS": item.Options} {
			if op != nil {
				out[method+" "+path] = op
			}
		}
	}
	return out
}

// newDocServer builds a server whose services are never called: for tests of
// the OpenAPI document only.
func newDocServer(t *testing.T) *server.Server {
	t.Helper()
	srv, err := server.New(testConfig(), server.Options{Services: service.New(nil, econ())})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// TestOpenAPIDeclaresEveryParameter: each {param} of a route is a declared
// path parameter, and every list (a response with next_cursor) takes limit,
// cursor and order. huma reads the parameters of an embedded struct only
// when its type is exported: with unexported marketPath, usernamePath and
// pageParams, {id} and {username} were always zero ("market 0" not found)
// and limit, cursor and order were ignored.
func TestOpenAPIDeclaresEveryParameter(t *testing.T) {
	t.Parallel()
	doc := newDocServer(t).OpenAPI()
	ops := operations(doc)
	if len(ops) < 15 {
		t.Fatalf("only %d operations in the OpenAPI document", len(ops))
	}
	for route, op := range ops {
		declared := map[string][]string{}
		for _, p := range op.Parameters {
			declared[p.In] = append(declared[p.In], p.Name)
		}
		for _, m := range pathParam.FindAllStringSubmatch(route, -1) {
			if !slices.Contains(declared["path"], m[1]) {
				t.Errorf("%s: path parameter %q not declared (declared: %v)", route, m[1], declared)
			}
		}
		if isList(doc, op) {
			for _, q := range []string{"limit", "cursor", "order"} {
				if !slices.Contains(declared["query"], q) {
					t.Errorf("%s: a list without the query parameter %q (declared: %v)", route, q, declared)
				}
			}
		}
	}
}

// isList reports whether op's success response is a page (has next_cursor).
func isList(doc *huma.OpenAPI, op *huma.Operation) bool {
	for status, r := range op.Responses {
		if !strings.HasPrefix(status, "2") || r.Content == nil {
			continue
		}
		for _, mt := range r.Content {
			s := mt.Schema
			if s != nil && s.Ref != "" {
				s = doc.Components.Schemas.SchemaFromRef(s.Ref)
			}
			if s != nil && s.Properties["next_cursor"] != nil {
				return true
			}
		}
	}
	return false
}
