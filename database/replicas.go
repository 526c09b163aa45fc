package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Streaming read replicas. A DB opened with database.replicas keeps a pool
// per replica beside the writer's. A read goes to a replica only when its
// call site says that it may be stale (StaleOK), it runs outside any
// transaction, the session it belongs to (WithSession) has not written
// within database.read_your_writes, and some replica is in rotation: each
// replica's lag is measured every database.replica_check_interval, and one
// that is unreachable, no longer a standby, or further behind than
// database.max_replica_lag is out of rotation until it has caught up.
// Otherwise the read goes to the writer. Everything else (writes,
// transactions, money paths, a user's own data) always uses the writer.

type staleOKKey struct{}

type sessionKey struct{}

type readTrackerKey struct{}

// StaleOK returns ctx marking the reads made with it as allowed to be
// served by a streaming replica, and so to be up to max_replica_lag
// behind: for lists whose readers do not need the latest write (market
// lists, leaderboards, public positions). It changes nothing inside a
// transaction, for a session that wrote recently, or without replicas.
// Never use it for money paths, for a user's own data, or before a write
// that depends on what was read.
func StaleOK(ctx context.Context) context.Context { return context.WithValue(ctx, staleOKKey{}, true) }

// IsStaleOK reports whether ctx was marked by StaleOK.
func IsStaleOK(ctx context.Context) bool { ok, _ := ctx.Value(staleOKKey{}).(bool); return ok }

// WithSession returns ctx naming the session (such as "user:42") its work
// belongs to. Every write made with it (a transaction that is not
// read-only, or a statement that writes) opens the session's
// read-your-writes window: for database.read_your_writes after it ends,
// the session's StaleOK reads go to the writer.
func WithSession(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, sessionKey{}, key)
}

func sessionFrom(ctx context.Context) string { s, _ := ctx.Value(sessionKey{}).(string); return s }

// ReadTracker records whether the reads of a unit of work (a request) were
// served by a replica, which one and how far behind it was. Safe for
// concurrent use.
type ReadTracker struct {
	mu      sync.Mutex
	replica string
	lag     time.Duration
}

// WithReadTracking returns ctx whose reads are recorded in the returned
// tracker.
func WithReadTracking(ctx context.Context) (context.Context, *ReadTracker) {
	t := &ReadTracker{}
	return context.WithValue(ctx, readTrackerKey{}, t), t
}

// Replica returns the replica that served a read of the unit of work and
// its lag as last measured before that read (the largest, when several
// were), and false when every read went to the writer.
func (t *ReadTracker) Replica() (name string, lag time.Duration, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.replica, t.lag, t.replica != ""
}

func (t *ReadTracker) note(name string, lag time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.replica == "" || lag >= t.lag {
		t.replica, t.lag = name, lag
	}
}

// ReplicaStatus is the state of one replica, as last measured.
type ReplicaStatus struct {
	// Name is the replica's host:port.
	Name string `json:"name"`
	// InRotation: stale-OK reads may go to it.
	InRotation bool `json:"in_rotation"`
	// Lag is how far behind it was (0 when it had replayed all the WAL it
	// received while streaming).
	Lag        time.Duration `json:"lag_ns"`
	LagSeconds float64       `json:"lag_seconds"`
	// Reason says why it is out of rotation.
	Reason string `json:"reason,omitempty"`
	// CheckedAt is when it was last measured (zero: not yet).
	CheckedAt time.Time `json:"checked_at"`
	// Reads counts the reads it served.
	Reads int64 `json:"reads"`
}

// StandbyStatus is one row of the writer's pg_stat_replication.
type StandbyStatus struct {
	ApplicationName string  `json:"application_name"`
	ClientAddr      string  `json:"client_addr,omitempty"`
	State           string  `json:"state"`
	ReplayLag       float64 `json:"replay_lag_seconds"`
}

// replica is one replica's pool and state.
type replica struct {
	name  string
	gorm  *gorm.DB
	sqlDB *sql.DB
	reads atomic.Int64

	mu     sync.Mutex
	status ReplicaStatus
}

func (r *replica) snapshot() ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.status
	s.Reads = r.reads.Load()
	return s
}

// replicaSet routes stale-OK reads and measures the replicas.
type replicaSet struct {
	replicas []*replica
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics
	next     atomic.Uint64

	mu       sync.Mutex
	sessions map[string]*session

	stop context.CancelFunc
	done chan struct{}
}

// session is the write state of one session key.
type session struct {
	inflight int
	last     time.Time
}

// openReplicas prepares a pool per replica (connecting lazily: a replica
// that is down does not stop the writer from opening), with the query
// monitor mon installed, measures every replica once, and starts measuring
// them every replica_check_interval.
func openReplicas(ctx context.Context, cfg Config, o options, mon *QueryMonitor, metrics *Metrics) (*replicaSet, error) {
	rs := &replicaSet{cfg: cfg, log: o.log.With("component", "replicas"), metrics: metrics, sessions: map[string]*session{}}
	for _, u := range cfg.Replicas {
		rcfg := cfg
		rcfg.URL, rcfg.Replicas, rcfg.MigrationsURL = u, nil, ""
		sqlDB, dialector, err := openPostgres(rcfg)
		if err != nil {
			rs.close()
			return nil, redact(fmt.Errorf("open replica %s: %w", rcfg.Address(), err), cfg.Password)
		}
		applyPool(sqlDB, cfg.ConnectionPool)
		g, err := gorm.Open(dialector, &gorm.Config{Logger: gormLogger(o.log, cfg.Monitoring), NowFunc: o.now, DisableAutomaticPing: true})
		if err != nil {
			sqlDB.Close()
			rs.close()
			return nil, fmt.Errorf("initialise gorm for replica %s: %w", rcfg.Address(), err)
		}
		if mon != nil {
			if err := g.Use(mon); err != nil {
				sqlDB.Close()
				rs.close()
				return nil, fmt.Errorf("install the query monitor on replica %s: %w", rcfg.Address(), err)
			}
		}
		metrics.RegisterPool(sqlDB, rcfg.Address())
		r := &replica{name: rcfg.Address(), gorm: g, sqlDB: sqlDB}
		r.status = ReplicaStatus{Name: r.name, Reason: "not measured yet"}
		rs.replicas = append(rs.replicas, r)
		if err := rs.watchErrors(r); err != nil {
			rs.close()
			return nil, err
		}
	}
	rs.check(ctx)
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rs.stop, rs.done = cancel, make(chan struct{})
	go rs.loop(lctx)
	return rs, nil
}

func (rs *replicaSet) loop(ctx context.Context) {
	defer close(rs.done)
	t := time.NewTicker(rs.cfg.ReplicaCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rs.check(ctx)
			rs.prune()
		}
	}
}

// close stops the measurements and closes the replicas' pools.
func (rs *replicaSet) close() error {
	if rs.stop != nil {
		rs.stop()
		<-rs.done
	}
	var first error
	for _, r := range rs.replicas {
		if err := r.sqlDB.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// replicaLagSQL measures a standby: whether it is one, whether its WAL
// receiver streams, whether it replayed all it received, and how old its
// last replayed transaction is.
const replicaLagSQL = `SELECT pg_is_in_recovery() AS standby,
	COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver LIMIT 1), false) AS streaming,
	COALESCE(pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(), false) AS caught_up,
	EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS behind`

// check measures every replica (concurrently, each under
// health_check.timeout) and updates the rotation.
func (rs *replicaSet) check(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range rs.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs.measure(ctx, r)
		}()
	}
	wg.Wait()
}

func (rs *replicaSet) measure(ctx context.Context, r *replica) {
	cctx, cancel := context.WithTimeout(ctx, rs.cfg.HealthCheck.Timeout)
	defer cancel()
	var row struct {
		Standby, Streaming, CaughtUp bool
		Behind                       *float64
	}
	err := r.gorm.WithContext(cctx).Raw(replicaLagSQL).Scan(&row).Error
	if ctx.Err() != nil {
		return // stopping
	}
	st := ReplicaStatus{Name: r.name, CheckedAt: time.Now().UTC()}
	switch {
	case err != nil:
		st.Reason = "unreachable: " + redact(err, rs.cfg.Password).Error()
	case !row.Standby:
		st.Reason = "not a standby (pg_is_in_recovery() is false): promoted, or not a replica"
	case row.CaughtUp && row.Streaming:
		st.InRotation = true // replayed everything the primary sent
	case row.Behind == nil:
		st.Reason = "no transaction replayed yet, and WAL left to replay"
	default:
		st.Lag = time.Duration(*row.Behind * float64(time.Second))
		st.InRotation = st.Lag <= rs.cfg.MaxReplicaLag
		if !st.InRotation {
			st.Reason = fmt.Sprintf("lag %s is more than max_replica_lag %s", st.Lag.Round(time.Millisecond), rs.cfg.MaxReplicaLag)
			if !row.Streaming {
				st.Reason += " (its WAL receiver is not streaming)"
			}
		}
	}
	st.LagSeconds = st.Lag.Seconds()
	r.mu.Lock()
	prev := r.status
	r.status = st
	r.mu.Unlock()
	rs.metrics.ReplicaLag.WithLabelValues(r.name).Set(st.Lag.Seconds())
	in := 0.0
	if st.InRotation {
		in = 1
	}
	rs.metrics.ReplicaInRotation.WithLabelValues(r.name).Set(in)
	switch {
	case prev.InRotation && !st.InRotation:
		rs.log.Warn("replica taken out of rotation; its reads go to the writer", "replica", r.name, "reason", st.Reason)
	case !prev.InRotation && st.InRotation:
		rs.log.Info("replica in rotation", "replica", r.name, "lag", st.Lag)
	}
}

// watchErrors takes r out of rotation as soon as a read routed to it finds
// it unreachable, rather than at the next measurement: that read fails
// (503), the next ones go to the writer.
func (rs *replicaSet) watchErrors(r *replica) error {
	after := func(tx *gorm.DB) { rs.readFailed(r, tx.Error) }
	cb := r.gorm.Callback()
	return errors.Join(
		cb.Query().After("*").Register("socialpredict:replica_errors", after),
		cb.Row().After("*").Register("socialpredict:replica_errors", after),
		cb.Raw().After("*").Register("socialpredict:replica_errors", after),
	)
}

// readFailed takes r out of rotation when err, the error of a read routed
// to it, says that it is unreachable (see watchErrors).
func (rs *replicaSet) readFailed(r *replica, err error) {
	if err == nil || !IsUnavailable(err) {
		return
	}
	r.mu.Lock()
	was := r.status.InRotation
	r.status.InRotation = false
	r.status.Reason = "unreachable: " + redact(err, rs.cfg.Password).Error()
	r.mu.Unlock()
	if was {
		rs.metrics.ReplicaInRotation.WithLabelValues(r.name).Set(0)
		rs.log.Warn("replica taken out of rotation after a failed read; its reads go to the writer", "replica", r.name, "error", err)
	}
}

// route returns the replica a read made with ctx goes to, or nil for the
// writer. ctx carries no transaction.
func (rs *replicaSet) route(ctx context.Context) *replica {
	if !IsStaleOK(ctx) {
		return nil
	}
	if key := sessionFrom(ctx); key != "" && rs.recentWriter(key) {
		rs.metrics.ReplicaFallbacks.WithLabelValues("read_your_writes").Inc()
		return nil
	}
	n := len(rs.replicas)
	start := int(rs.next.Add(1) % uint64(n))
	for i := range n {
		r := rs.replicas[(start+i)%n]
		r.mu.Lock()
		in, lag := r.status.InRotation, r.status.Lag
		r.mu.Unlock()
		if !in {
			continue
		}
		r.reads.Add(1)
		rs.metrics.ReplicaReads.WithLabelValues(r.name).Inc()
		if t, _ := ctx.Value(readTrackerKey{}).(*ReadTracker); t != nil {
			t.note(r.name, lag)
		}
		return r
	}
	rs.metrics.ReplicaFallbacks.WithLabelValues("no_replica_in_rotation").Inc()
	return nil
}

// beginWrite opens the read-your-writes window of ctx's session for a
// write that is starting; the returned function ends it (the window then
// lasts read_your_writes). It does nothing without a session.
func (rs *replicaSet) beginWrite(ctx context.Context) func() {
	key := sessionFrom(ctx)
	if key == "" {
		return func() {}
	}
	rs.mu.Lock()
	s := rs.sessions[key]
	if s == nil {
		s = &session{}
		rs.sessions[key] = s
	}
	s.inflight++
	rs.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			rs.mu.Lock()
			s.inflight--
			s.last = time.Now()
			rs.mu.Unlock()
		})
	}
}

// recentWriter reports whether the session is writing or wrote within
// read_your_writes.
func (rs *replicaSet) recentWriter(key string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	s := rs.sessions[key]
	return s != nil && (s.inflight > 0 || time.Since(s.last) < rs.cfg.ReadYourWrites)
}

// prune forgets the sessions whose window has closed.
func (rs *replicaSet) prune() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for k, s := range rs.sessions {
		if s.inflight == 0 && time.Since(s.last) >= rs.cfg.ReadYourWrites {
			delete(rs.sessions, k)
		}
	}
}

// statuses returns every replica's state.
func (rs *replicaSet) statuses() []ReplicaStatus {
	out := make([]ReplicaStatus, len(rs.replicas))
	for i, r := range rs.replicas {
		out[i] = r.snapshot()
	}
	return out
}

// writeTrackingName is the GORM plugin that opens the read-your-writes
// window around statements that write.
const writeTrackingName = "socialpredict:read_your_writes"

// writeTracking is the GORM plugin (on the writer) that calls beginWrite
// around every create, update, delete and raw statement (Exec).
type writeTracking struct{ rs *replicaSet }

type writeDoneKey struct{}

// Name implements gorm.Plugin.
func (writeTracking) Name() string { return writeTrackingName }

// Initialize implements gorm.Plugin.
func (w writeTracking) Initialize(db *gorm.DB) error {
	before := func(tx *gorm.DB) {
		if sessionFrom(tx.Statement.Context) != "" {
			tx.Statement.Settings.Store(writeDoneKey{}, w.rs.beginWrite(tx.Statement.Context))
		}
	}
	after := func(tx *gorm.DB) {
		if done, ok := tx.Statement.Settings.LoadAndDelete(writeDoneKey{}); ok {
			done.(func())()
		}
	}
	cb := db.Callback()
	regs := []func() error{
		func() error { return cb.Create().Before("*").Register(writeTrackingName+":before", before) },
		func() error { return cb.Create().After("*").Register(writeTrackingName+":after", after) },
		func() error { return cb.Update().Before("*").Register(writeTrackingName+":before", before) },
		func() error { return cb.Update().After("*").Register(writeTrackingName+":after", after) },
		func() error { return cb.Delete().Before("*").Register(writeTrackingName+":before", before) },
		func() error { return cb.Delete().After("*").Register(writeTrackingName+":after", after) },
		func() error { return cb.Raw().Before("*").Register(writeTrackingName+":before", before) },
		func() error { return cb.Raw().After("*").Register(writeTrackingName+":after", after) },
	}
	for _, reg := range regs {
		if err := reg(); err != nil {
			return err
		}
	}
	return nil
}
