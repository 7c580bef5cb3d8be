package builder

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/seattletestbed/seattle-installer/native/internal/pgtest"
)

func postgres(t testing.TB) *pgtest.Server {
	t.Helper()
	// Each test gets its own cluster: tests that kill the server must not
	// disturb others, and initdb takes about a second.
	return pgtest.Start(t)
}

func openPG(t testing.TB, url string) *PGStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := OpenPostgres(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func TestPGStore(t *testing.T) {
	srv := postgres(t)
	st := openPG(t, srv.NewDatabase())
	ctx := context.Background()
	id := ID([]byte(sample))
	if _, err := st.Get(ctx, id); !errors.Is(err, ErrNoBuild) {
		t.Fatalf("Get before Put: %v, want ErrNoBuild", err)
	}
	for i, want := range []bool{true, false} {
		created, err := st.Put(ctx, id, []byte(sample))
		if err != nil || created != want {
			t.Fatalf("Put #%d: created %v, %v; want %v", i+1, created, err, want)
		}
	}
	rec, err := st.Get(ctx, id)
	if err != nil || string(rec.Vesselinfo) != sample || rec.ID != id || time.Since(rec.Created) > time.Minute || !rec.LastDownload.IsZero() {
		t.Fatalf("Get: %+v %v", rec, err)
	}
	when := time.Now().Truncate(time.Microsecond)
	if err := st.Downloaded(ctx, id, when); err != nil {
		t.Fatal(err)
	}
	if err := st.Downloaded(ctx, id, when.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rec, _ := st.Get(ctx, id); !rec.LastDownload.Equal(when) {
		t.Errorf("last download %v, want %v (an older time does not replace a newer)", rec.LastDownload, when)
	}
	// Keys by user name merge, a name given again gets the newer key.
	if err := st.SetKeys(ctx, id, map[string]string{"alex": "3 5", "bob": "7 11"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetKeys(ctx, id, map[string]string{"bob": "13 17"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := st.Get(ctx, id); len(rec.Keys) != 2 || rec.Keys["alex"] != "3 5" || rec.Keys["bob"] != "13 17" {
		t.Errorf("keys %v", rec.Keys)
	}
	if err := st.SetKeys(ctx, ID([]byte("other")), map[string]string{"x": "1 2"}); !errors.Is(err, ErrNoBuild) {
		t.Errorf("SetKeys of an unknown build: %v, want ErrNoBuild", err)
	}
	// The schema refuses what is not an ID, whoever writes to it.
	if _, err := st.Put(ctx, "../../etc/passwd", []byte(sample)); err == nil {
		t.Error("Put with a malformed ID succeeded")
	}
}

// TestMigrationsRaceOnAnEmptyDatabase: servers starting at once on an empty
// database all come up, and the schema is made once.
func TestMigrationsRaceOnAnEmptyDatabase(t *testing.T) {
	srv := postgres(t)
	url := srv.NewDatabase()
	const n = 8
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st, err := OpenPostgres(ctx, url, nil)
			if err == nil {
				_, err = st.Put(ctx, ID([]byte(sample)), []byte(sample))
				st.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var versions, latest int
	if err := c.QueryRow(context.Background(), "SELECT count(*), max(version) FROM schema_version").Scan(&versions, &latest); err != nil {
		t.Fatal(err)
	}
	files, _ := migrations.ReadDir("migrations")
	if versions != len(files) || latest != len(files) {
		t.Errorf("schema_version has %d rows up to %d, want each of the %d migrations once", versions, latest, len(files))
	}
}

// TestNewerSchemaIsRefused: a server older than its database says so
// rather than writing rows the newer schema does not expect.
func TestNewerSchemaIsRefused(t *testing.T) {
	srv := postgres(t)
	url := srv.NewDatabase()
	openPG(t, url).Close()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(context.Background(), "INSERT INTO schema_version (version) VALUES (9999)"); err != nil {
		t.Fatal(err)
	}
	c.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := OpenPostgres(ctx, url, nil); err == nil || !strings.Contains(err.Error(), "upgrade the server") {
		t.Errorf("OpenPostgres on a newer schema: %v", err)
	}
}

// TestOpenWaitsForTheDatabase: a server started before its database comes
// up when the database does; one whose database never comes gives up when
// its context ends.
func TestOpenWaitsForTheDatabase(t *testing.T) {
	srv := postgres(t)
	url := srv.NewDatabase()
	srv.Kill()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		st, err := OpenPostgres(ctx, url, nil)
		if err == nil {
			st.Close()
		}
		done <- err
	}()
	time.Sleep(time.Second)
	select {
	case err := <-done:
		t.Fatalf("OpenPostgres returned while the database was down: %v", err)
	default:
	}
	srv.Start()
	if err := <-done; err != nil {
		t.Fatalf("after the database came up: %v", err)
	}
	srv.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := OpenPostgres(ctx, url, nil); err == nil {
		t.Error("OpenPostgres succeeded with the database down")
	}
}

func TestBadDatabaseURL(t *testing.T) {
	for _, url := range []string{"postgres://[::1", "mysql://x/y", "host=/nonexistent/socket dbname=x connect_timeout=1"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := OpenPostgres(ctx, url, nil)
		cancel()
		if err == nil {
			t.Errorf("OpenPostgres(%q) succeeded", url)
		}
	}
}

func TestDirStore(t *testing.T) {
	st, err := NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := ID([]byte(sample))
	if err := st.SetKeys(ctx, id, map[string]string{"x": "1 2"}); !errors.Is(err, ErrNoBuild) {
		t.Errorf("SetKeys before Put: %v, want ErrNoBuild", err)
	}
	for i, want := range []bool{true, false} {
		if created, err := st.Put(ctx, id, []byte(sample)); err != nil || created != want {
			t.Fatalf("Put #%d: %v %v", i+1, created, err)
		}
	}
	if rec, err := st.Get(ctx, id); err != nil || len(rec.Keys) != 0 || string(rec.Vesselinfo) != sample {
		t.Fatalf("Get: %+v %v", rec, err)
	}
	st.SetKeys(ctx, id, map[string]string{"alex": "3 5", "bob": "7 11"})
	st.SetKeys(ctx, id, map[string]string{"bob": "13 17"})
	if rec, _ := st.Get(ctx, id); len(rec.Keys) != 2 || rec.Keys["alex"] != "3 5" || rec.Keys["bob"] != "13 17" {
		t.Errorf("keys %v", rec.Keys)
	}
	if _, err := st.Put(ctx, "../x", []byte(sample)); err == nil {
		t.Error("Put with a malformed ID succeeded")
	}
}

// TestMigrationKeepsRows: a database made by a server of schema 1, with a
// build in it, is migrated by this one and the build is still there.
func TestMigrationKeepsRows(t *testing.T) {
	srv := postgres(t)
	url := srv.NewDatabase()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrations.ReadFile("migrations/0001_builds.sql")
	if err != nil {
		t.Fatal(err)
	}
	id := ID([]byte(sample))
	for _, q := range []string{
		"CREATE TABLE schema_version (version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())",
		string(first),
		"INSERT INTO schema_version (version) VALUES (1)",
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := c.Exec(ctx, "INSERT INTO builds (id, vesselinfo) VALUES ($1, $2)", id, []byte(sample)); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	st := openPG(t, url)
	rec, err := st.Get(ctx, id)
	if err != nil || string(rec.Vesselinfo) != sample || rec.Keys == nil || len(rec.Keys) != 0 {
		t.Fatalf("after migration: %+v %v", rec, err)
	}
	if err := st.SetKeys(ctx, id, map[string]string{"alex": "3 5"}); err != nil {
		t.Fatal(err)
	}
}

// TestPoolSize: 16 connections unless the URL names another number.
func TestPoolSize(t *testing.T) {
	srv := postgres(t)
	url := srv.NewDatabase()
	if n := openPG(t, url).pool.Config().MaxConns; n != 16 {
		t.Errorf("default pool: %d connections, want 16", n)
	}
	if n := openPG(t, url+"&pool_max_conns=3").pool.Config().MaxConns; n != 3 {
		t.Errorf("pool_max_conns=3: %d connections", n)
	}
}
