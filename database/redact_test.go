package database

import (
	"errors"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	base := errors.New("connect as app with password s3cret-pw-123 failed")
	got := redact(base, "s3cret-pw-123")
	if strings.Contains(got.Error(), "s3cret-pw-123") || !errors.Is(got, base) {
		t.Errorf("redact = %q (is base: %v)", got, errors.Is(got, base))
	}
	// A short password is not masked: masking "app" in "user=app" would
	// tell that the password is the user name.
	short := errors.New("user=app")
	if got := redact(short, "app"); got != short {
		t.Errorf("short secret: redact = %q", got)
	}
	if redact(nil, "s3cret-pw-123") != nil {
		t.Error("redact(nil) != nil")
	}
}
