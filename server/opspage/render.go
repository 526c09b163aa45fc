package opspage

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"socialpredict/database"
	"socialpredict/database/diagnostics"
	"socialpredict/internal/dbreport"
)

// assets holds the templates and the static files (stylesheet, script,
// icon), compiled into the binary.
//
//go:embed assets
var assets embed.FS

// templates are assets/templates/*.tmpl, parsed once: they are part of the
// binary, so a template that does not parse stops every test at once.
var templates = template.Must(template.New("").Funcs(funcs).ParseFS(assets, "assets/templates/*.tmpl"))

// assetHandler serves assets/static under Path+"/assets/". The files hold
// nothing about the database, so they need no credential.
func assetHandler() http.Handler {
	static, _ := fs.Sub(assets, "assets/static")
	files := http.StripPrefix(Path+"/assets/", http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// assetTag versions the asset URLs (?v=...) by their content, so a new
// binary never runs an old cached script.
func assetTag() string {
	h := sha256.New()
	_ = fs.WalkDir(assets, "assets/static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assets.ReadFile(path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// protos are the zero rows the page's <template> elements are rendered
// from: page.js clones them when it re-renders a list.
var protos = map[string]any{
	"summary":      dbreport.FindingSummary{},
	"check":        database.HealthCheckResult{},
	"migration":    struct{ Version, Description, State string }{},
	"statement":    diagnostics.StatementStat{},
	"slow":         database.SlowQuery{},
	"nplusone":     database.NPlusOneEvent{},
	"state":        diagnostics.ConnectionCount{},
	"source":       diagnostics.ConnectionSource{},
	"blocked":      diagnostics.BlockedSession{},
	"blocking":     diagnostics.BlockingSession{},
	"activity":     diagnostics.SessionActivity{},
	"leaked":       database.LeakedTx{},
	"unused":       diagnostics.IndexUsage{},
	"missing":      diagnostics.TableScans{},
	"duplicate":    diagnostics.DuplicateIndexes{},
	"bloat":        diagnostics.Bloat{},
	"cache":        diagnostics.CacheHitRatio{},
	"tablespace":   diagnostics.TableSpace{},
	"indexspace":   diagnostics.IndexSpace{},
	"maintenance":  diagnostics.TableMaintenance{},
	"xid":          diagnostics.DatabaseXID{},
	"sequence":     diagnostics.SequenceUsage{},
	"replica":      diagnostics.Replica{},
	"slot":         diagnostics.ReplicationSlot{},
	"setting":      diagnostics.Setting{},
	"object":       diagnostics.SQLiteObject{},
	"stat1":        diagnostics.SQLiteStat1{},
	"plan":         dbreport.QueryPlan{},
	"sqlitetables": diagnostics.TableName{},
}

// funcs are the template functions: the formats of format.go, and helpers.
var funcs = template.FuncMap{
	"int":   fmtInt,
	"bytes": fmtBytes,
	"dur":   fmtDur,
	"ms":    fmtMS,
	"pct":   fmtPct,
	"ago":   func(v any) string { return fmtAgo(v, time.Now()) },
	"time":  fmtTime,
	"bool":  fmtBool,
	"proto": func(name string) (any, error) {
		if p, ok := protos[name]; ok {
			return p, nil
		}
		return nil, fmt.Errorf("no prototype row %q", name)
	},
	// summary returns the summary lines a list's data-filter keeps.
	"summary": func(r *dbreport.Report, filter string) []dbreport.FindingSummary {
		var out []dbreport.FindingSummary
		for _, f := range r.Summary {
			if summaryMatches(f, filter) {
				out = append(out, f)
			}
		}
		return out
	},
	// times is "×N" for a count above 1.
	"times": func(n int) string {
		if n > 1 {
			return fmt.Sprintf("×%d", n)
		}
		return ""
	},
	// hot is "hot" from 90%: the class of a progress bar in the red.
	"hot": func(pct float64) string {
		if pct >= 90 {
			return "hot"
		}
		return ""
	},
	"pids": func(pids []int) string {
		s := make([]string, len(pids))
		for i, p := range pids {
			s[i] = fmt.Sprint(p)
		}
		return strings.Join(s, ", ")
	},
	// names joins names with commas, or says "none".
	"names": func(names []string) string {
		if len(names) == 0 {
			return "none"
		}
		return strings.Join(names, ", ")
	},
	"deref": func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	},
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
	// ratio turns a ratio into a percentage.
	"ratio": func(p *float64) float64 { return *p * 100 },
	// clock is the time of day of a report, in UTC.
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") + " UTC" },
}

// summaryMatches applies a list's data-filter to a summary line as page.js
// does: "key=a|b;key!=c", keys being the JSON names section, name, status
// and anchor.
func summaryMatches(f dbreport.FindingSummary, filter string) bool {
	if filter == "" {
		return true
	}
	for cond := range strings.SplitSeq(filter, ";") {
		key, values, neg := cond, "", false
		if k, v, ok := strings.Cut(cond, "!="); ok {
			key, values, neg = k, v, true
		} else if k, v, ok := strings.Cut(cond, "="); ok {
			key, values = k, v
		}
		field := map[string]string{"section": f.Section, "name": f.Name, "status": f.Status, "anchor": f.Anchor}[key]
		hit := false
		for v := range strings.SplitSeq(values, "|") {
			hit = hit || v == field
		}
		if hit == neg {
			return false
		}
	}
	return true
}
