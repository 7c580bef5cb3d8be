package builder

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are the database schema, one file per version
// (NNNN_what.sql), applied in order by the server at start. A released
// file is never edited: a change is a new file.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the advisory lock that makes servers starting
// at once on an empty database migrate one after the other.
const migrationLock = 0x5ea771e

// dbTimeout bounds every query, so that a database that is down or
// unreachable makes requests fail fast (503) instead of hanging.
const dbTimeout = 3 * time.Second

// PGStore is the Store that several servers share: a PostgreSQL database.
type PGStore struct {
	pool *pgxpool.Pool
}

// OpenPostgres connects to the database at url (a postgres:// URL or a
// key=value connection string) and migrates its schema to this version,
// retrying until ctx ends while the database cannot be reached, so a
// server may start before its database.
func OpenPostgres(ctx context.Context, url string, log *slog.Logger) (*PGStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > dbTimeout {
		cfg.ConnConfig.ConnectTimeout = dbTimeout
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default is the number of CPUs (at least 4): too few for
		// concurrent uploads to share each commit's disk flush.
		cfg.MaxConns = max(cfg.MaxConns, 16)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		var v int
		v, err = migrate(ctx, pool)
		if err == nil {
			log.Info("database ready", "schema", v)
			return &PGStore{pool: pool}, nil
		}
		if ctx.Err() != nil || !retryable(err) {
			break
		}
		log.Warn("database not reachable yet; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	pool.Close()
	return nil, fmt.Errorf("database: %w", err)
}

// errNewerSchema means the database was migrated by a newer server.
var errNewerSchema = errors.New("the database is newer than this server: upgrade the server")

// retryable reports whether err may go away by itself: the database is
// down or starting, rather than refusing us (bad password, no database).
func retryable(err error) bool {
	if errors.Is(err, errNewerSchema) {
		return false
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		// 57P03: the database system is starting up; 08: connection exceptions.
		s := pe.SQLState()
		return s == "57P03" || strings.HasPrefix(s, "08")
	}
	return !errors.Is(err, context.Canceled)
}

// migrate applies the migrations the database lacks, in one transaction
// under an advisory lock, and returns the schema version.
func migrate(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	sort.Strings(files)
	tx, err := pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock)); err != nil {
		return 0, fmt.Errorf("lock for migration: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())"); err != nil {
		return 0, fmt.Errorf("schema_version: %w", err)
	}
	var have int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&have); err != nil {
		return 0, fmt.Errorf("schema_version: %w", err)
	}
	latest := 0
	for _, f := range files {
		num, _, _ := strings.Cut(path.Base(f), "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return 0, fmt.Errorf("migration %s: name does not start with a number", f)
		}
		latest = max(latest, v)
		if v <= have {
			continue
		}
		sql, err := fs.ReadFile(migrations, f)
		if err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", v); err != nil {
			return 0, fmt.Errorf("migration %s: %w", f, err)
		}
	}
	if have > latest {
		return 0, fmt.Errorf("%w: the database's schema is version %d, this server's %d", errNewerSchema, have, latest)
	}
	return max(have, latest), tx.Commit(ctx)
}

// Put implements Store.
func (p *PGStore) Put(ctx context.Context, id string, text []byte) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	tag, err := p.pool.Exec(ctx, "INSERT INTO builds (id, vesselinfo) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", id, text)
	if err != nil {
		return false, fmt.Errorf("store build %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Get implements Store.
func (p *PGStore) Get(ctx context.Context, id string) (Record, error) {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	r := Record{ID: id}
	var last *time.Time
	err := p.pool.QueryRow(ctx, "SELECT vesselinfo, created, last_download, keys FROM builds WHERE id = $1", id).Scan(&r.Vesselinfo, &r.Created, &last, &r.Keys)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, ErrNoBuild
	}
	if err != nil {
		return Record{}, fmt.Errorf("read build %s: %w", id, err)
	}
	if last != nil {
		r.LastDownload = *last
	}
	return r, nil
}

// SetKeys implements Store.
func (p *PGStore) SetKeys(ctx context.Context, id string, keys map[string]string) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	tag, err := p.pool.Exec(ctx, "UPDATE builds SET keys = keys || $2 WHERE id = $1", id, keys)
	if err != nil {
		return fmt.Errorf("store keys of %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNoBuild
	}
	return nil
}

// Downloaded implements Store.
func (p *PGStore) Downloaded(ctx context.Context, id string, t time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	_, err := p.pool.Exec(ctx, "UPDATE builds SET last_download = $2 WHERE id = $1 AND (last_download IS NULL OR last_download < $2)", id, t)
	if err != nil {
		return fmt.Errorf("note download of %s: %w", id, err)
	}
	return nil
}

// Close implements Store.
func (p *PGStore) Close() { p.pool.Close() }
