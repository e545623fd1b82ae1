package mvpapp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// errPoolExhausted is returned when no connection frees within Config.DBWait.
var errPoolExhausted = errors.New("database pool exhausted")

// store is the SQLite database: a temporary file in WAL mode (readers run in
// parallel with the one writer), behind a small pool whose connections each
// stand for a remote round trip of Config.DBLatency per query.
type store struct {
	db      *sql.DB
	dir     string
	pool    int
	latency time.Duration
	wait    time.Duration
}

const schema = `
CREATE TABLE users (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE posts (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id),
	title      TEXT NOT NULL,
	body       TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX posts_created_at ON posts(created_at);
CREATE INDEX posts_user_id ON posts(user_id);
`

// openStore creates the database in a new temporary directory and seeds it with
// cfg.Users users and cfg.Posts posts, the newest created at now.
func openStore(cfg Config, now time.Time) (*store, error) {
	dir, err := os.MkdirTemp("", "mvpapp-*")
	if err != nil {
		return nil, fmt.Errorf("create database dir: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(OFF)")
	dsn := "file:" + filepath.Join(dir, "mvpapp.db") + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &store{db: db, dir: dir, pool: cfg.dbPool(), latency: cfg.DBLatency, wait: cfg.DBWait}
	if err := s.seed(cfg, now); err != nil {
		s.close()
		return nil, err
	}
	db.SetMaxOpenConns(s.pool)
	db.SetMaxIdleConns(s.pool)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return s, nil
}

func (s *store) seed(cfg Config, now time.Time) error {
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	// Recursive CTEs keep the seeding inside SQLite: one statement per table.
	const users = `
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
INSERT INTO users (id, name, email, created_at)
SELECT i, 'u' || i, 'u' || i || '@example.com', ?2 - 3600 * i FROM seq`
	// Posts are spread evenly over 30 days; authors are spread over all users.
	const posts = `
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
INSERT INTO posts (id, user_id, title, body, created_at)
SELECT i, (i * 7919) % ?3 + 1, 'Launch #' || i,
       'We are launching product #' || i || ' today. Feedback welcome!', ?2 - (i - 1) * 2592000 / ?1
FROM seq`
	if _, err := s.db.ExecContext(ctx, users, cfg.Users, now.Unix()); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if cfg.Posts > 0 {
		if _, err := s.db.ExecContext(ctx, posts, cfg.Posts, now.Unix(), cfg.Users); err != nil {
			return fmt.Errorf("seed posts: %w", err)
		}
	}
	return nil
}

func (s *store) close() error {
	err := s.db.Close()
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = fmt.Errorf("remove database dir: %w", rmErr)
	}
	return err
}

// dbConn is a connection taken from the pool for one request.
type dbConn struct {
	conn    *sql.Conn
	latency time.Duration
}

// query runs one query on c after the round-trip delay, holding the connection.
func (c dbConn) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := sleep(ctx, c.latency); err != nil {
		return nil, err
	}
	return c.conn.QueryContext(ctx, q, args...)
}

// queryRow is query for a single row.
func (c dbConn) queryRow(ctx context.Context, q string, args ...any) (*sql.Row, error) {
	if err := sleep(ctx, c.latency); err != nil {
		return nil, err
	}
	return c.conn.QueryRowContext(ctx, q, args...), nil
}

// exec is query for a statement without rows.
func (c dbConn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := sleep(ctx, c.latency); err != nil {
		return nil, err
	}
	return c.conn.ExecContext(ctx, q, args...)
}

// withConn takes a connection from the pool, waiting at most s.wait, runs fn on it
// and gives it back. The time spent, waiting included, is added to the request's
// db timing. It returns errPoolExhausted (wrapped) if no connection freed in time.
func (s *store) withConn(ctx context.Context, fn func(dbConn) error) error {
	t := timingFrom(ctx)
	start := time.Now()
	defer func() { t.addDB(time.Since(start)) }()

	waitCtx, cancel := context.WithTimeout(ctx, s.wait)
	conn, err := s.db.Conn(waitCtx)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: no connection within %s (pool %d)", errPoolExhausted, s.wait, s.pool)
		}
		return fmt.Errorf("take database connection: %w", err)
	}
	defer conn.Close()
	return fn(dbConn{conn: conn, latency: s.latency})
}

// post is one entry of the feed.
type post struct {
	ID        int64  `json:"id"`
	Title     string `json:"title"`
	Author    string `json:"author"`
	AuthorID  int64  `json:"author_id"`
	CreatedAt int64  `json:"created_at"`
}

// feed is the body of GET /api/feed.
type feed struct {
	Posts    []post `json:"posts"`
	Last24h  int64  `json:"last_24h"`
	Newest   int64  `json:"newest"`
	Returned int    `json:"returned"`
}

// feed runs the two feed queries on one connection: the 20 newest posts with
// their authors, then the number of posts of the last 24 hours.
func (s *store) feed(ctx context.Context) (feed, error) {
	var f feed
	err := s.withConn(ctx, func(c dbConn) error {
		rows, err := c.query(ctx, `
SELECT p.id, p.title, p.created_at, u.id, u.name
FROM posts p JOIN users u ON u.id = p.user_id
ORDER BY p.created_at DESC, p.id DESC LIMIT 20`)
		if err != nil {
			return fmt.Errorf("query feed: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var p post
			if err := rows.Scan(&p.ID, &p.Title, &p.CreatedAt, &p.AuthorID, &p.Author); err != nil {
				return fmt.Errorf("scan feed: %w", err)
			}
			f.Posts = append(f.Posts, p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read feed: %w", err)
		}
		rows.Close()
		if len(f.Posts) > 0 {
			f.Newest = f.Posts[0].CreatedAt
		}
		row, err := c.queryRow(ctx, `SELECT COUNT(*) FROM posts WHERE created_at > ?`, f.Newest-86400)
		if err != nil {
			return fmt.Errorf("count posts: %w", err)
		}
		if err := row.Scan(&f.Last24h); err != nil {
			return fmt.Errorf("count posts: %w", err)
		}
		return nil
	})
	f.Returned = len(f.Posts)
	return f, err
}

// profile is the body of GET /api/profile/{id}.
type profile struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	CreatedAt int64  `json:"created_at"`
	Posts     int64  `json:"posts"`
}

// errNotFound is returned for an unknown profile.
var errNotFound = errors.New("not found")

// profile runs one query: the user and the number of their posts.
func (s *store) profile(ctx context.Context, id int64) (profile, error) {
	var p profile
	err := s.withConn(ctx, func(c dbConn) error {
		row, err := c.queryRow(ctx, `
SELECT u.id, u.name, u.email, u.created_at,
       (SELECT COUNT(*) FROM posts WHERE user_id = u.id)
FROM users u WHERE u.id = ?`, id)
		if err != nil {
			return fmt.Errorf("query profile: %w", err)
		}
		err = row.Scan(&p.ID, &p.Name, &p.Email, &p.CreatedAt, &p.Posts)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("profile %d: %w", id, errNotFound)
		}
		if err != nil {
			return fmt.Errorf("query profile: %w", err)
		}
		return nil
	})
	return p, err
}

// insertUser runs one statement: a new user row. It returns the new id.
func (s *store) insertUser(ctx context.Context, name, email string, now time.Time) (int64, error) {
	var id int64
	err := s.withConn(ctx, func(c dbConn) error {
		res, err := c.exec(ctx, `INSERT INTO users (name, email, created_at) VALUES (?, ?, ?)`, name, email, now.Unix())
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		id, err = res.LastInsertId()
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return nil
	})
	return id, err
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
