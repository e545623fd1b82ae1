package mvpapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ShutdownTimeout bounds Server.Close: in-flight requests get this long to
// finish before their connections are closed.
const ShutdownTimeout = 2 * time.Second

// Server is an App listening on a TCP address.
type Server struct {
	app       *App
	srv       *http.Server
	url       string
	done      chan struct{} // closed when Serve returns
	stopCtx   func() bool   // stops the context watcher
	closeOnce sync.Once
	closeErr  error
}

// Start creates an App from cfg and serves it on addr in the background
// ("127.0.0.1:0" picks a free port). The server stops when ctx is done or
// Close is called; the caller must call Close either way to release it.
func Start(ctx context.Context, cfg Config, addr string) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	app, err := New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		app: app,
		srv: &http.Server{
			Handler:           app.Handler(),
			ReadHeaderTimeout: 5 * time.Second,
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		},
		url:  "http://" + ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// URL returns the server's base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.url }

// App returns the App the server serves.
func (s *Server) App() *App { return s.app }

// Close shuts the server down gracefully, waiting at most ShutdownTimeout for
// requests in flight, then closes the App. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.stopCtx()
		ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = s.srv.Close()
		}
		<-s.done
		if err != nil {
			err = fmt.Errorf("shut down server: %w", err)
		}
		s.closeErr = errors.Join(err, s.app.Close())
	})
	return s.closeErr
}
