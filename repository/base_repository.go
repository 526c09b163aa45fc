package repository

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"socialpredict/errs"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Page limits.
const (
	// DefaultLimit is the page size when a request does not set one.
	DefaultLimit = 50
	// MaxLimit is the largest page size a request may ask for.
	MaxLimit = 500
)

// PageRequest asks for one page of a list in keyset order.
type PageRequest struct {
	// Sort names the field to order by; each list documents its allowed
	// fields and default. Ties are broken by id.
	Sort string
	// Desc orders descending.
	Desc bool
	// Limit is the page size: 0 for DefaultLimit, at most MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; "" for the first page.
	// It is only valid with the same sort, direction and filters.
	Cursor string
}

// Page is one page of a list.
type Page[T any] struct {
	// Items are the rows of the page, in order.
	Items []T
	// NextCursor continues the list; "" on the last page.
	NextCursor string
}

// limit returns the page size, or errs.ErrInvalidInput.
func (p PageRequest) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return DefaultLimit, nil
	case p.Limit < 0 || p.Limit > MaxLimit:
		return 0, errs.Invalid("limit", "must be between 1 and %d, got %d", MaxLimit, p.Limit)
	}
	return p.Limit, nil
}

// keyKind is the type of a sort key, for encoding it in cursors.
type keyKind int

const (
	keyTime keyKind = iota
	keyInt
	keyString
	keyFloat
)

// sortKey is one allowed sort field of a list.
type sortKey[T any] struct {
	column string
	kind   keyKind
	value  func(*T) any
}

// keyset pages through rows of T ordered by (sort column, tie column).
type keyset[T any] struct {
	// name identifies the list in its cursors, so that a cursor of one list
	// is refused by another.
	name        string
	sorts       map[string]sortKey[T]
	defaultSort string
	tieColumn   string
	tie         func(*T) int64
	// columns are selected and read by scan, in this order.
	columns string
	scan    func(*sql.Rows) (*T, error)
}

// page runs q (already filtered) for the page req asks for. filters
// identifies the filters, so that a cursor cannot be reused with others.
func (k keyset[T]) page(q *gorm.DB, req PageRequest, filters any) (Page[*T], error) {
	limit, err := req.limit()
	if err != nil {
		return Page[*T]{}, err
	}
	name := req.Sort
	if name == "" {
		name = k.defaultSort
	}
	sk, ok := k.sorts[name]
	if !ok {
		return Page[*T]{}, errs.Invalid("sort", "unknown field %q (allowed: %s)", name, strings.Join(k.sortNames(), ", "))
	}
	fp := fingerprint(k.name, filters)
	order, cmp := "ASC", ">"
	if req.Desc {
		order, cmp = "DESC", "<"
	}
	if req.Cursor != "" {
		c, err := decodeCursor(req.Cursor)
		if err != nil {
			return Page[*T]{}, err
		}
		if c.Sort != name || c.Desc != req.Desc || c.Filters != fp {
			return Page[*T]{}, errs.Invalid("cursor", "it belongs to another sort, order or filter")
		}
		v, err := parseKey(sk.kind, c.Value)
		if err != nil {
			return Page[*T]{}, err
		}
		q = q.Where(fmt.Sprintf("(%s, %s) %s (?, ?)", sk.column, k.tieColumn, cmp), v, c.Tie)
	}
	rows, err := k.fetch(q.Select(k.columns).Order(sk.column+" "+order).Order(k.tieColumn+" "+order).Limit(limit+1), limit+1)
	if err != nil {
		return Page[*T]{}, err
	}
	page := Page[*T]{Items: rows}
	if len(rows) > limit {
		page.Items = rows[:limit]
		last := rows[limit-1]
		page.NextCursor = encodeCursor(cursor{Sort: name, Desc: req.Desc, Value: formatKey(sk.value(last)), Tie: k.tie(last), Filters: fp})
	}
	return page, nil
}

// fetch runs q and scans its rows.
func (k keyset[T]) fetch(q *gorm.DB, capacity int) ([]*T, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, TranslateError(err)
	}
	return k.collect(rows, capacity)
}

// collect scans and closes rows.
func (k keyset[T]) collect(rows *sql.Rows, capacity int) (out []*T, err error) {
	defer func() { err = errors.Join(err, rows.Close()) }()
	out = make([]*T, 0, capacity)
	for rows.Next() {
		item, err := k.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, TranslateError(rows.Err())
}

func (k keyset[T]) sortNames() []string {
	names := make([]string, 0, len(k.sorts))
	for n := range k.sorts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// cursor is what an opaque cursor holds.
type cursor struct {
	Sort    string `json:"s"`
	Desc    bool   `json:"d,omitempty"`
	Value   string `json:"v"`
	Tie     int64  `json:"i"`
	Filters string `json:"f"`
}

// cursorKey authenticates cursors, so that a corrupted or edited one is
// rejected rather than read. It is not a secret: a forged cursor could only
// start a page at a row the caller may list anyway.
var cursorKey = []byte("socialpredict cursor v1")

func encodeCursor(c cursor) string {
	payload, _ := json.Marshal(c) // cannot fail: plain fields
	mac := hmac.New(sha256.New, cursorKey)
	mac.Write(payload)
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// errBadCursor names the field, as every paging error does (an
// *errs.InputError), so that the API can point at its parameter.
var errBadCursor error = &errs.InputError{Field: "cursor", Problem: "is malformed or was altered"}

func decodeCursor(s string) (cursor, error) {
	p, m, ok := strings.Cut(s, ".")
	// Strict: a changed padding bit must not decode to the same bytes.
	payload, err1 := base64.RawURLEncoding.Strict().DecodeString(p)
	sum, err2 := base64.RawURLEncoding.Strict().DecodeString(m)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, errBadCursor
	}
	mac := hmac.New(sha256.New, cursorKey)
	mac.Write(payload)
	if !hmac.Equal(sum, mac.Sum(nil)[:12]) {
		return cursor{}, errBadCursor
	}
	var c cursor
	if err := json.Unmarshal(payload, &c); err != nil {
		return cursor{}, errBadCursor
	}
	return c, nil
}

// fingerprint identifies a list and its filters.
func fingerprint(list string, filters any) string {
	b, _ := json.Marshal(filters)
	sum := sha256.Sum256(append([]byte(list+"\x00"), b...))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func formatKey(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	panic(fmt.Sprintf("repository: unsupported sort key type %T", v))
}

func parseKey(kind keyKind, s string) (any, error) {
	var (
		v   any
		err error
	)
	switch kind {
	case keyTime:
		v, err = time.Parse(time.RFC3339Nano, s)
	case keyInt:
		v, err = strconv.ParseInt(s, 10, 64)
	case keyFloat:
		v, err = strconv.ParseFloat(s, 64)
	default:
		v = s
	}
	if err != nil {
		return nil, errBadCursor
	}
	return v, nil
}

// likeEscaper escapes LIKE wildcards; patterns use ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// prefixPattern matches values starting with s.
func prefixPattern(s string) string { return likeEscaper.Replace(s) + "%" }

// globEscaper escapes GLOB wildcards by putting each in brackets.
var globEscaper = strings.NewReplacer(`*`, `[*]`, `?`, `[?]`, `[`, `[[]`)

// globPrefix is a SQLite GLOB pattern matching values starting with s.
func globPrefix(s string) string { return globEscaper.Replace(s) + "*" }

// containsPattern matches values containing s (compare with lower()).
func containsPattern(s string) string { return "%" + likeEscaper.Replace(strings.ToLower(s)) + "%" }

// notFound translates GORM's record-not-found into errs.ErrNotFound naming what
// was looked for, and other errors as TranslateError does.
func notFound(err error, what string, key any) error {
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s %v", errs.ErrNotFound, what, key)
	}
	return TranslateError(err)
}

// timeRange adds "column >= after" and "column < before" for the bounds set.
func timeRange(q *gorm.DB, column string, after, before *time.Time) *gorm.DB {
	if after != nil {
		q = q.Where(column+" >= ?", after.UTC())
	}
	if before != nil {
		q = q.Where(column+" < ?", before.UTC())
	}
	return q
}
