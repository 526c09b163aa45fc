package database

import "testing"

func TestSplitURLPassword(t *testing.T) {
	tests := []struct{ in, conn, password string }{
		{"postgres://app@h/db", "postgres://app@h/db", ""},
		{"postgres://h/db?sslmode=disable", "postgres://h/db?sslmode=disable", ""},
		{"postgres://app:p%40ss@h:5433/db", "postgres://app@h:5433/db", "p@ss"},
		{"postgres://app:a@b@h/db", "postgres://app@h/db", "a@b"},
		{"postgres://app:bad%zz@h/db", "postgres://app@h/db", "bad%zz"},
		{"postgres://app:x@h/db?PassWord=y&sslmode=require", "postgres://app@h/db?sslmode=require", "y"},
		{"postgres:///db?host=/var/run/postgresql&password=s%26t", "postgres:///db?host=/var/run/postgresql", "s&t"},
		{"postgres://app:pw@h1:5432,h2:5433/db?target_session_attrs=read-write", "postgres://app@h1:5432,h2:5433/db?target_session_attrs=read-write", "pw"},
		{"postgres://app:pw@h?password=q", "postgres://app@h", "q"},
	}
	for _, tt := range tests {
		conn, password := splitURLPassword(tt.in)
		if conn != tt.conn || password != tt.password {
			t.Errorf("splitURLPassword(%q) = %q, %q; want %q, %q", tt.in, conn, password, tt.conn, tt.password)
		}
	}
}
