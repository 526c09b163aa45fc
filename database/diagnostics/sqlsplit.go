package diagnostics

import (
	"errors"
	"fmt"
	"strings"
)

// SingleStatement returns the one SQL statement query holds, without the
// whitespace around it and without its trailing semicolon, reading quotes
// and comments as driver's engine does (driverSQLite, otherwise
// PostgreSQL): string literals (and PostgreSQL's E'...' escapes and
// $tag$...$tag$ dollar quotes), quoted identifiers (and SQLite's `...` and
// [...]), -- and /* */ comments (nested on PostgreSQL). A semicolon outside
// them ends the statement; only whitespace and comments may follow it.
// PostgreSQL strings are read with standard_conforming_strings on (the
// default, which pgx requires); the server also refuses several statements
// in one extended-protocol query, but SQLite's driver runs them all.
//
// Errors: ErrEmptyQuery, ErrMultipleStatements, ErrUnterminatedQuery.
func SingleStatement(query, driver string) (string, error) {
	lx := sqlLexer{q: query, sqlite: driver == driverSQLite}
	end := -1
	statement := false
	for lx.i < len(lx.q) {
		start := lx.i
		kind, err := lx.next()
		if err != nil {
			return "", fmt.Errorf("%w: %s at offset %d", ErrUnterminatedQuery, err, start)
		}
		switch {
		case kind == tokSpace:
		case kind == tokSemicolon && end < 0:
			end = start
		case end >= 0:
			return "", fmt.Errorf("%w: more follows the ';' at offset %d", ErrMultipleStatements, end)
		default:
			statement = true
		}
	}
	if !statement {
		return "", ErrEmptyQuery
	}
	if end >= 0 {
		query = query[:end]
	}
	return strings.Trim(query, sqlSpace), nil
}

// sqlSpace is the whitespace both engines skip between tokens.
const sqlSpace = " \t\n\r\f\v"

// The token kinds SingleStatement tells apart.
type sqlToken int

const (
	tokSpace     sqlToken = iota // whitespace or a comment
	tokSemicolon                 // ';'
	tokOther                     // anything else
)

// sqlLexer reads a query token by token, as far as statements go.
type sqlLexer struct {
	q      string
	i      int
	sqlite bool
}

// next consumes one token at lx.i and returns its kind, or an error naming
// what is unterminated.
func (lx *sqlLexer) next() (sqlToken, error) {
	q, i := lx.q, lx.i
	c := q[i]
	switch {
	case strings.IndexByte(sqlSpace, c) >= 0:
		lx.i++
		return tokSpace, nil
	case c == ';':
		lx.i++
		return tokSemicolon, nil
	case strings.HasPrefix(q[i:], "--"):
		lx.lineComment()
		return tokSpace, nil
	case strings.HasPrefix(q[i:], "/*"):
		return tokSpace, lx.blockComment()
	case c == '\'':
		return tokOther, lx.quoted('\'', "string literal")
	case c == '"':
		return tokOther, lx.quoted('"', "quoted identifier")
	case lx.sqlite && c == '`':
		return tokOther, lx.quoted('`', "quoted identifier")
	case lx.sqlite && c == '[':
		return tokOther, lx.until(1, "]", "[identifier]")
	case lx.sqlite && strings.IndexByte("$@:#", c) >= 0:
		return tokOther, lx.sqliteVariable()
	case !lx.sqlite && c == '$':
		return tokOther, lx.dollar()
	case isIdentStart(c):
		for lx.i++; lx.i < len(q) && isIdentCont(q[lx.i]); lx.i++ {
		}
		if !lx.sqlite && lx.i == i+1 && (c == 'e' || c == 'E') && lx.i < len(q) && q[lx.i] == '\'' {
			return tokOther, lx.escapeString()
		}
		return tokOther, nil
	case isDigit(c):
		lx.number()
		return tokOther, nil
	default:
		lx.i++
		return tokOther, nil
	}
}

// lineComment skips "--" to the end of the line (PostgreSQL also ends it
// at a carriage return).
func (lx *sqlLexer) lineComment() {
	stop := "\n\r"
	if lx.sqlite {
		stop = "\n"
	}
	if n := strings.IndexAny(lx.q[lx.i:], stop); n >= 0 {
		lx.i += n
	} else {
		lx.i = len(lx.q)
	}
}

// blockComment skips a /* */ comment, nested on PostgreSQL.
func (lx *sqlLexer) blockComment() error {
	if lx.sqlite {
		return lx.until(2, "*/", "/* comment")
	}
	depth := 0
	for lx.i < len(lx.q) {
		switch {
		case strings.HasPrefix(lx.q[lx.i:], "/*"):
			depth++
			lx.i += 2
		case strings.HasPrefix(lx.q[lx.i:], "*/"):
			depth--
			lx.i += 2
			if depth == 0 {
				return nil
			}
		default:
			lx.i++
		}
	}
	return errors.New("unterminated /* comment")
}

// quoted skips a literal opened by q at lx.i, where q doubled stands for
// itself.
func (lx *sqlLexer) quoted(q byte, what string) error {
	for j := lx.i + 1; j < len(lx.q); j++ {
		if lx.q[j] != q {
			continue
		}
		if j+1 < len(lx.q) && lx.q[j+1] == q {
			j++
			continue
		}
		lx.i = j + 1
		return nil
	}
	return errors.New("unterminated " + what)
}

// escapeString skips PostgreSQL's E'...' from its quote at lx.i, where a
// backslash escapes the next byte.
func (lx *sqlLexer) escapeString() error {
	for j := lx.i + 1; j < len(lx.q); j++ {
		switch lx.q[j] {
		case '\\':
			j++
		case '\'':
			if j+1 < len(lx.q) && lx.q[j+1] == '\'' {
				j++
				continue
			}
			lx.i = j + 1
			return nil
		}
	}
	return errors.New("unterminated E'' string literal")
}

// until skips an opening of width bytes at lx.i and then past the next
// occurrence of closing, which must exist.
func (lx *sqlLexer) until(width int, closing, what string) error {
	n := strings.Index(lx.q[lx.i+width:], closing)
	if n < 0 {
		return errors.New("unterminated " + what)
	}
	lx.i += width + n + len(closing)
	return nil
}

// dollar reads PostgreSQL's '$' at lx.i: a parameter ($1), a dollar-quoted
// string ($$...$$, $tag$...$tag$) or a lone '$'.
func (lx *sqlLexer) dollar() error {
	q, i := lx.q, lx.i
	j := i + 1
	if j < len(q) && isDigit(q[j]) {
		for j < len(q) && isDigit(q[j]) {
			j++
		}
		lx.i = j
		return nil
	}
	if j < len(q) && isIdentStart(q[j]) {
		for j++; j < len(q) && isIdentCont(q[j]) && q[j] != '$'; j++ {
		}
	}
	if j >= len(q) || q[j] != '$' {
		lx.i++ // not a delimiter: a lone '$'
		return nil
	}
	delim := q[i : j+1]
	n := strings.Index(q[j+1:], delim)
	if n < 0 {
		return errors.New("unterminated dollar-quoted string " + delim)
	}
	lx.i = j + 1 + n + len(delim)
	return nil
}

// sqliteVariable reads SQLite's $name, @name, :name or #name at lx.i,
// including its "::" parts and a "(...)" suffix, which may hold any byte
// but whitespace and ')'.
func (lx *sqlLexer) sqliteVariable() error {
	q := lx.q
	j, n := lx.i+1, 0
	for j < len(q) {
		switch c := q[j]; {
		case isIdentCont(c):
			n++
			j++
			continue
		case c == '(' && n > 0:
			for j++; j < len(q) && strings.IndexByte(sqlSpace, q[j]) < 0 && q[j] != ')'; j++ {
			}
			if j >= len(q) || q[j] != ')' {
				return errors.New("unterminated variable suffix (...)")
			}
			j++
		case c == ':' && j+1 < len(q) && q[j+1] == ':':
			j += 2
			continue
		}
		break
	}
	lx.i = j
	return nil
}

// number skips a numeric literal: digits, a decimal point and an exponent.
func (lx *sqlLexer) number() {
	q, j := lx.q, lx.i
	for j < len(q) && (isDigit(q[j]) || q[j] == '.') {
		j++
	}
	if j < len(q) && (q[j] == 'e' || q[j] == 'E') {
		k := j + 1
		if k < len(q) && (q[k] == '+' || q[k] == '-') {
			k++
		}
		if k < len(q) && isDigit(q[k]) {
			for j = k; j < len(q) && isDigit(q[j]); j++ {
			}
		}
	}
	lx.i = j
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isIdentStart reports whether c starts an identifier or keyword (bytes of
// multibyte UTF-8 characters do, on both engines).
func isIdentStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c >= 0x80
}

// isIdentCont reports whether c continues an identifier: '$' does, on both
// engines.
func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
