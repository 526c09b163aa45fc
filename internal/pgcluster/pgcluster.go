// Package pgcluster starts throwaway PostgreSQL clusters from the installed
// server binaries (initdb, pg_ctl, pg_basebackup), for the tests and
// commands that must restart, stop or replicate a server: never the shared
// one other people use; and for bench --all when no server is given. It is the Go form of what scripts/test does when
// no server is reachable: a temporary directory, a free port on 127.0.0.1,
// trust authentication, and, when run as root, every server tool run as
// the `postgres` OS user (initdb and pg_ctl refuse root).
//
// It runs programs only; it never opens a SQL connection.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries are found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, pg_ctl) found")

// Cluster is one throwaway PostgreSQL cluster. Its methods are safe for
// concurrent use.
type Cluster struct {
	// Dir is the temporary directory holding the data directory, the
	// socket and the logs; Destroy removes it.
	Dir string
	// Data is the data directory.
	Data string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// BinDir holds the server binaries.
	BinDir string

	settings []string
	mu       sync.Mutex
}

// Options configure Start.
type Options struct {
	// BinDir holds initdb and pg_ctl; found by FindBinDir when empty.
	BinDir string
	// Settings are extra server settings (name=value), after the defaults
	// (listen on 127.0.0.1 only, max_connections=100, fsync=off).
	Settings []string
}

// FindBinDir returns the directory of the newest installed PostgreSQL
// server binaries: pg_config --bindir, then /usr/lib/postgresql/*/bin
// (Debian), then initdb on PATH; ErrNoBinaries when there are none.
func FindBinDir() (string, error) {
	ok := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl"} {
			if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); ok(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", ErrNoBinaries
}

// version reads the major version out of /usr/lib/postgresql/<v>/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start creates a cluster in a new temporary directory and starts it on a
// free port. The caller must call Destroy.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	c, err := create(o)
	if err != nil {
		return nil, err
	}
	if out, err := c.run(ctx, filepath.Join(c.BinDir, "initdb"), "-D", c.Data, "-U", "postgres", "-A", "trust",
		"--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		c.Destroy()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := c.startOnFreePort(ctx); err != nil {
		c.Destroy()
		return nil, err
	}
	return c, nil
}

// create makes the temporary directory (owned by postgres when root).
func create(o Options) (*Cluster, error) {
	bin := o.BinDir
	if bin == "" {
		var err error
		if bin, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	// As root the directory must be reachable by the postgres user, so
	// /tmp rather than a private $TMPDIR; short, for the socket path.
	parent := os.TempDir()
	if os.Geteuid() == 0 {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "socialpredict-pg.")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, Data: filepath.Join(dir, "data"), BinDir: bin, settings: o.Settings}
	if os.Geteuid() == 0 {
		uid, gid, err := postgresUser()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := errors.Join(os.Chmod(dir, 0o755), os.Chown(dir, uid, gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	return c, nil
}

// postgresUser returns the ids of the postgres OS user.
func postgresUser() (uid, gid int, err error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, fmt.Errorf("running as root but there is no 'postgres' OS user to run the server as: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// startOnFreePort starts the server, retrying on another port when the one
// chosen was taken meanwhile.
func (c *Cluster) startOnFreePort(ctx context.Context) error {
	var err error
	for range 3 {
		if c.Port, err = FreePort(); err != nil {
			return err
		}
		if err = c.Start(ctx); err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "already in use") && !strings.Contains(err.Error(), "could not bind") {
			return err
		}
	}
	return err
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL returns the URL of database db as the superuser postgres.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Addr returns host:port.
func (c *Cluster) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)) }

// LogFile is the server's log.
func (c *Cluster) LogFile() string { return filepath.Join(c.Dir, "server.log") }

// options is pg_ctl's -o: port, socket directory, loopback only, settings.
func (c *Cluster) options() string {
	o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off", c.Port, c.Dir)
	for _, s := range c.settings {
		o += " -c " + s
	}
	return o
}

// Start starts the (stopped) server and waits until it accepts connections.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.run(ctx, filepath.Join(c.BinDir, "pg_ctl"), "start", "-D", c.Data, "-l", c.LogFile(), "-w", "-t", "60", "-o", c.options())
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, c.logTail())
	}
	return nil
}

// Restart runs pg_ctl restart -m mode (smart, fast or immediate) and waits
// until the server accepts connections again; it returns when it does.
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.run(ctx, filepath.Join(c.BinDir, "pg_ctl"), "restart", "-D", c.Data, "-m", mode, "-l", c.LogFile(), "-w", "-t", "60", "-o", c.options())
	if err != nil {
		return fmt.Errorf("pg_ctl restart -m %s: %w\n%s\n%s", mode, err, out, c.logTail())
	}
	return nil
}

// Stop runs pg_ctl stop -m mode and waits until the server is down.
func (c *Cluster) Stop(ctx context.Context, mode string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.run(ctx, filepath.Join(c.BinDir, "pg_ctl"), "stop", "-D", c.Data, "-m", mode, "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w\n%s", mode, err, out)
	}
	return nil
}

// Promote promotes a standby (pg_ctl promote) and waits until it is done.
func (c *Cluster) Promote(ctx context.Context) error {
	out, err := c.run(ctx, filepath.Join(c.BinDir, "pg_ctl"), "promote", "-D", c.Data, "-w", "-t", "60")
	if err != nil {
		return fmt.Errorf("pg_ctl promote: %w\n%s", err, out)
	}
	return nil
}

// Replica makes a streaming replica of c with pg_basebackup -R -X stream
// (standby.signal and primary_conninfo written) and starts it on a free
// port. The caller must Destroy it (before c).
func (c *Cluster) Replica(ctx context.Context, settings ...string) (*Cluster, error) {
	r, err := create(Options{BinDir: c.BinDir, Settings: append(append([]string{}, c.settings...), settings...)})
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, filepath.Join(c.BinDir, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port),
		"-U", "postgres", "-D", r.Data, "-R", "-X", "stream", "--no-sync")
	if err != nil {
		r.Destroy()
		return nil, fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	if err := r.startOnFreePort(ctx); err != nil {
		r.Destroy()
		return nil, err
	}
	return r, nil
}

// Destroy stops the server (immediately) and removes its directory. It is
// safe to call more than once.
func (c *Cluster) Destroy() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Dir == "" {
		return
	}
	if _, err := os.Stat(filepath.Join(c.Data, "postmaster.pid")); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, _ = c.run(ctx, filepath.Join(c.BinDir, "pg_ctl"), "stop", "-D", c.Data, "-m", "immediate", "-w", "-t", "30")
		cancel()
	}
	os.RemoveAll(c.Dir)
	c.Dir = ""
}

// logTail returns the end of the server log, for errors.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.LogFile())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// run runs a server tool, as the postgres OS user when root, from the
// cluster's directory, and returns its combined output.
func (c *Cluster) run(ctx context.Context, name string, args ...string) (string, error) {
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		runuser, err := lookRunuser()
		if err != nil {
			return "", err
		}
		cmd = exec.CommandContext(ctx, runuser, append([]string{"-u", "postgres", "--", name}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, name, args...)
	}
	cmd.Dir = c.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves the postmaster running with our pipes as its
	// output unless told otherwise (-l redirects the server's own).
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.String(), err
}

// lookRunuser finds runuser, which lives in /usr/sbin (not always on PATH).
func lookRunuser() (string, error) {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/runuser", "/sbin/runuser"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("running as root without runuser (util-linux) to run the PostgreSQL tools as postgres")
}
