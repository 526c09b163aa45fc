package confkit

import "strings"

// Expand replaces ${VAR} and ${VAR:-default} in s with values from lookup.
//
// ${VAR} is VAR's value (possibly empty); ${VAR:-default} is VAR's value when
// it is set and not empty, and default otherwise (shell semantics). $$ stands
// for a literal $. Any other $ is kept as it is, so passwords that contain $
// need no escaping unless followed by { or $. Expand returns the names of
// variables that were referenced without a default and are unset, and the
// text of a malformed reference (an unclosed "${" or an invalid name); s is
// returned unchanged when any is found.
func Expand(s string, lookup func(string) (string, bool)) (out string, missing []string, malformed string) {
	if !strings.Contains(s, "$") {
		return s, nil, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return s, nil, s[i:]
			}
			ref := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(ref, ":-")
			if !validName(name) {
				return s, nil, "${" + ref + "}"
			}
			v, ok := lookup(name)
			switch {
			case hasDef && v == "":
				v = def
			case !ok && !hasDef:
				missing = append(missing, name)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	if len(missing) > 0 {
		return s, missing, ""
	}
	return b.String(), nil, ""
}

// validName reports whether name is a shell-style variable name.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
