package confkit

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"text/tabwriter"
)

// Masked is what Show prints in place of a secret.
const Masked = "********"

// Show writes the effective value of every key of the struct v points to,
// with its source, as an aligned table. Secrets are masked: a `secret:"true"`
// key shows Masked when set, a `secret:"url"` key shows its URL with the
// password masked. It returns the first write error.
func Show(w io.Writer, v any, sources Sources, envPrefix string) error {
	root := reflect.Indirect(reflect.ValueOf(v))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tSOURCE")
	for _, k := range Keys(v, envPrefix) {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Path, displayValue(k, k.field(root)), sources[k.Path])
	}
	return tw.Flush()
}

func displayValue(k Key, v reflect.Value) string {
	switch k.Secret {
	case "":
		return formatScalar(v)
	case "url":
		if v.Kind() == reflect.Slice {
			items := make([]string, v.Len())
			for i := range items {
				items[i] = RedactURL(v.Index(i).String())
			}
			return "[" + strings.Join(items, ", ") + "]"
		}
		return RedactURL(v.String())
	default:
		if v.String() == "" {
			return `""`
		}
		return Masked
	}
}

// RedactURL masks the secrets in a URL such as postgres://u:p@h/db: the
// password of the user part (as url.URL.Redacted does, with "xxxxx") and the
// values of password and sslpassword query parameters. A string that does not
// parse as a hierarchical URL (scheme://...) is masked whole when it is not
// empty, since it may hold a secret in a form we cannot see.
func RedactURL(s string) string {
	if s == "" {
		return `""`
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || !strings.Contains(s, "://") {
		return Masked
	}
	q := u.Query()
	masked := false
	for k := range q {
		if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
			q.Set(k, "xxxxx")
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Reference writes a Markdown table documenting every key of the struct that
// defaults points to: key, default, type, environment variable, description.
// It returns the first write error.
func Reference(w io.Writer, defaults any, envPrefix string) error {
	root := reflect.Indirect(reflect.ValueOf(defaults))
	if _, err := fmt.Fprintln(w, "| Key | Default | Type | Environment variable | Description |\n|---|---|---|---|---|"); err != nil {
		return err
	}
	for _, k := range Keys(defaults, envPrefix) {
		def := formatScalar(k.field(root))
		if k.Secret != "" && def != `""` && def != "[]" {
			def = Masked
		}
		doc := strings.ReplaceAll(k.Doc, "|", `\|`)
		if _, err := fmt.Fprintf(w, "| `%s` | `%s` | %s | `%s` | %s |\n", k.Path, def, k.Type, k.Env, doc); err != nil {
			return err
		}
	}
	return nil
}
