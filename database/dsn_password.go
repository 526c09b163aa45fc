package database

import (
	"net/url"
	"strings"
)

// splitURLPassword returns the PostgreSQL URL s without its password, and
// the password (decoded; "" for none). It works on the text, since
// url.Parse rejects host lists with ports (h1:5432,h2:5433) that libpq
// accepts: the password is the part after the first ":" of the user
// information (before the last "@" of the authority) and the value of any
// password= query parameter, whose name libpq matches exactly; it is
// matched here in any case, to err on the side of hiding.
func splitURLPassword(s string) (conn, password string) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s, ""
	}
	hostPart, query, hasQuery := strings.Cut(rest, "?")
	authority, path := hostPart, ""
	if i := strings.IndexByte(hostPart, '/'); i >= 0 {
		authority, path = hostPart[:i], hostPart[i:]
	}
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		if user, pw, ok := strings.Cut(authority[:at], ":"); ok {
			password = unescape(pw, url.PathUnescape)
			authority = user + authority[at:]
		}
	}
	conn = scheme + "://" + authority + path
	if !hasQuery {
		return conn, password
	}
	var kept []string
	for _, param := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(param, "=")
		if strings.EqualFold(unescape(name, url.QueryUnescape), "password") {
			password = unescape(value, url.QueryUnescape)
			continue
		}
		kept = append(kept, param)
	}
	if len(kept) > 0 {
		conn += "?" + strings.Join(kept, "&")
	}
	return conn, password
}

// unescape decodes s with decode, or returns s when it is not valid
// percent-encoding.
func unescape(s string, decode func(string) (string, error)) string {
	if d, err := decode(s); err == nil {
		return d
	}
	return s
}
