package diagnostics

import "strings"

// MaskedText returns the plan as Text does, with every constant of its
// conditions (Index Cond, Filter) replaced by ?: PostgreSQL plans a
// statement with its parameter values and prints them there, so Text can
// hold what the statement's arguments held. SQLite's plans name no values:
// their Text is returned as it is.
func (p *Plan) MaskedText() string {
	if p.Root == nil {
		return p.Text
	}
	var b strings.Builder
	renderPlanNode(&b, p.Root, 0, p.Analyzed, MaskConstants)
	if p.Analyzed {
		// The timing lines of Text follow the tree.
		if i := strings.Index(p.Text, "Planning Time:"); i >= 0 {
			b.WriteString(p.Text[i:])
		}
	}
	return b.String()
}

// MaskConstants replaces the constants of an SQL expression as PostgreSQL
// prints one ((email = 'x'::text), (id = 42)) by ?: string literals (E'...'
// and dollar-quoted ones too) and numbers. Identifiers, quoted identifiers,
// parameter references ($1) and the numbers of SubPlan and InitPlan names
// are kept. Text after an unterminated quote is masked.
func MaskConstants(expr string) string {
	var b strings.Builder
	lx := &sqlLexer{q: expr}
	prev := "" // the previous token other than whitespace
	for lx.i < len(expr) {
		i := lx.i
		if _, err := lx.next(); err != nil {
			b.WriteByte('?')
			break
		}
		tok := expr[i:lx.i]
		if isConstant(tok) && prev != "SubPlan" && prev != "InitPlan" {
			b.WriteByte('?')
		} else {
			b.WriteString(tok)
		}
		if strings.IndexByte(sqlSpace, tok[0]) < 0 {
			prev = tok
		}
	}
	return b.String()
}

// isConstant reports whether a token of sqlLexer is a literal: a number, a
// string, an escape string or a dollar-quoted string.
func isConstant(tok string) bool {
	switch c := tok[0]; {
	case isDigit(c), c == '\'':
		return true
	case c == 'e' || c == 'E':
		return len(tok) > 1 && tok[1] == '\''
	case c == '$':
		return len(tok) > 1 && !isDigit(tok[1])
	}
	return false
}
