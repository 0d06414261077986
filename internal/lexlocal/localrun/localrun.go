// Package localrun runs the local Lex runtime on a TCP listener: the dialog
// manager over the given bots, behind the AWS wire layer. Both
// `switchboard lex-local` and the embedded demo of `switchboard serve`
// start it here, so the two serve alike.
package localrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/dialog"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/export"
)

// Options configure Start.
type Options struct {
	// Addr is the listen address, e.g. 127.0.0.1:4010; port 0 picks one.
	Addr string
	Bots []*export.Bot
	// Region and the key pair are what clients must sign with.
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	Logger          *slog.Logger
}

// Runtime is a started local runtime.
type Runtime struct {
	// URL is the endpoint to give SDK clients (http://host:port).
	URL    string
	Brain  *dialog.Brain
	srv    *http.Server
	served chan error
}

// Start loads the bots into a dialog manager and serves them on o.Addr. It
// returns once requests are accepted.
func Start(o Options) (*Runtime, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	brain, err := dialog.New(o.Bots, dialog.Options{})
	if err != nil {
		return nil, err
	}
	handler, err := lexlocal.New(lexlocal.Options{
		AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey, Region: o.Region,
		Brain: brain, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	// Turns are pure computation and bodies are capped at 256 KiB, so
	// generous bounds only matter against clients that stall.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	for _, b := range brain.Bots() {
		var locales []string
		for _, a := range b.Aliases {
			for id := range a.Locales {
				locales = append(locales, id)
			}
		}
		slices.Sort(locales)
		log.Info("lex-local: bot loaded", "name", b.Name, "id", b.ID, "alias", dialog.TestAliasID, "locales", strings.Join(locales, ","))
	}
	r := &Runtime{URL: "http://" + ln.Addr().String(), Brain: brain, srv: srv, served: make(chan error, 1)}
	log.Info("lex-local: listening", "url", r.URL, "region", o.Region)
	go func() { r.served <- srv.Serve(ln) }()
	return r, nil
}

// Failed delivers the error that stopped serving before Shutdown was
// called (the listener broke).
func (r *Runtime) Failed() <-chan error { return r.served }

// Shutdown stops accepting requests and waits, within ctx, for those in
// flight.
func (r *Runtime) Shutdown(ctx context.Context) error {
	err := r.srv.Shutdown(ctx)
	select {
	case serr := <-r.served:
		if !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = fmt.Errorf("lex-local: %w", serr)
		}
	case <-ctx.Done():
	}
	return err
}
