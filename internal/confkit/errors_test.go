package confkit

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestErrorsMessageIsCapped(t *testing.T) {
	var es Errors
	for i := range MaxReported {
		es.Add("k"+strconv.Itoa(i), "bad")
	}
	if msg := es.Error(); strings.Count(msg, "\n  - ") != MaxReported || strings.Contains(msg, "more") {
		t.Errorf("%d problems:\n%s", len(es), msg)
	}
	es.Add("last", "bad")
	if msg := es.Error(); strings.Contains(msg, "last") || !strings.HasSuffix(msg, "\n  … and 1 more problem") {
		t.Errorf("%d problems:\n%s", len(es), msg)
	}
	if !errors.Is(es, ErrInvalid) || len(es.Unwrap()) != MaxReported+1 {
		t.Errorf("the error must still hold every problem")
	}
}
