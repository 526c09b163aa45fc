package confkit

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// setScalar parses s into v according to v's type. Strings are kept as they
// are (a password may start or end with a space); numbers, booleans and
// durations may be surrounded by spaces. Numbers must be finite: NaN and
// infinities (however spelled) are refused, as is a number too large for
// float64 or an integer too large for the field. Its error says what was expected,
// without the key (the caller adds it).
func setScalar(v reflect.Value, s string) error {
	if v.Kind() != reflect.String {
		s = strings.TrimSpace(s)
	}
	if v.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q (want a number with a unit, e.g. 500ms, 30s, 5m, 1h)", s)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported configuration type %s", v.Type())
		}
		// A comma-separated list (the environment's form of a list).
		items := []string{}
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		v.Set(reflect.ValueOf(items))
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid boolean %q (want true or false)", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return fmt.Errorf("invalid integer %q", s)
		}
		v.SetInt(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			// ParseFloat accepts NaN and Inf (YAML's .nan and .inf fail to parse).
			return fmt.Errorf("invalid number %q (want a finite number, e.g. 1 or 0.5)", s)
		}
		v.SetFloat(f)
	default:
		return fmt.Errorf("unsupported configuration type %s", v.Type())
	}
	return nil
}

// formatScalar renders v the way it would be written in the YAML file.
func formatScalar(v reflect.Value) string {
	if v.Type() == durationType {
		return FormatDuration(time.Duration(v.Int()))
	}
	switch v.Kind() {
	case reflect.Slice:
		items := make([]string, v.Len())
		for i := range items {
			items[i] = formatScalar(v.Index(i))
		}
		return "[" + strings.Join(items, ", ") + "]"
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	default:
		return fmt.Sprint(v.Interface())
	}
}

// FormatDuration renders d in the shortest form ParseDuration accepts back:
// "1h" rather than "1h0m0s", "30m", "1h30m", "250ms".
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
