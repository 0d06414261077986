package service_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/auth"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
	"github.com/switchboard-chat/switchboard/internal/service/servicetest"
	"github.com/switchboard-chat/switchboard/internal/store"
	"github.com/switchboard-chat/switchboard/internal/store/postgres"
	"github.com/switchboard-chat/switchboard/internal/store/postgres/pgtest"
)

// movingClock is the nodes' shared time, which the tests move past the
// limit's window.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movingClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loginNodes are services sharing one database, as nodes of one cluster.
type loginNodes struct {
	svcs  []*service.Service
	store store.Store
	clock *movingClock
}

func sqliteLoginNode(t *testing.T) loginNodes {
	clk := &movingClock{t: time.Now()}
	se := servicetest.New(t, func(o *service.Options) { o.Now = clk.Now })
	return loginNodes{svcs: []*service.Service{se.Service}, store: se.Store, clock: clk}
}

func postgresLoginNodes(t *testing.T) loginNodes {
	ctx := context.Background()
	url := pgtest.URL(t)
	keys, err := auth.NewKeyring(bytes.Repeat([]byte{7}, auth.MasterKeyLen))
	if err != nil {
		t.Fatal(err)
	}
	n := loginNodes{clock: &movingClock{t: time.Now()}}
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		n.store = st
		n.svcs = append(n.svcs, service.New(service.Options{Store: st, Keys: keys, Passwords: auth.TestParams, Now: n.clock.Now, NodeID: "node" + string(rune('A'+i))}))
	}
	if _, err := n.svcs[0].EnsureDefaults(ctx, service.Bootstrap{AdminEmail: servicetest.OwnerEmail, AdminPassword: servicetest.OwnerPassword, APIKey: servicetest.APIKey}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginLimitPerEmailSQLite(t *testing.T)   { testLoginLimitPerEmail(t, sqliteLoginNode(t)) }
func TestLoginLimitPerEmailTwoNodes(t *testing.T) { testLoginLimitPerEmail(t, postgresLoginNodes(t)) }

// testLoginLimitPerEmail spreads the failures over the nodes: the limit is
// the cluster's, not a node's.
func testLoginLimitPerEmail(t *testing.T, n loginNodes) {
	ctx := context.Background()
	node := func(i int) *service.Service { return n.svcs[i%len(n.svcs)] }
	login := func(i int, email, password string) error {
		_, _, _, err := node(i).LoginFrom(ctx, "192.0.2.1", email, password)
		return err
	}
	for i := 0; i < service.LoginMaxFailuresPerEmail; i++ {
		wantCode(t, login(i, servicetest.OwnerEmail, "wrong-password"), chat.CodeUnauthenticated)
		n.clock.Add(time.Minute)
	}
	// The right password is refused now too, on every node, and the
	// refusal says for how long: until the first failure is 15 minutes old.
	for i := range n.svcs {
		err := login(i, "Owner@Example.com", servicetest.OwnerPassword)
		wantCode(t, err, chat.CodeRateLimited)
		want := int64((service.LoginWindow - service.LoginMaxFailuresPerEmail*time.Minute) / time.Second)
		if got := err.(*chat.Error).Details["retryAfterSeconds"]; got != want {
			t.Errorf("retryAfterSeconds %v, want %d", got, want)
		}
	}
	// Another email is not affected by this one's failures.
	wantCode(t, login(0, "nobody@example.com", "x-password"), chat.CodeUnauthenticated)

	// An unknown email is limited exactly like a real one, so the limit
	// does not reveal which accounts exist.
	for i := 1; i < service.LoginMaxFailuresPerEmail; i++ {
		wantCode(t, login(i, "nobody@example.com", "x-password"), chat.CodeUnauthenticated)
	}
	wantCode(t, login(0, "nobody@example.com", "x-password"), chat.CodeRateLimited)

	// Once the first failure leaves the window, one attempt is allowed;
	// the right password signs in and clears the email's failures.
	n.clock.Add(service.LoginWindow - service.LoginMaxFailuresPerEmail*time.Minute + time.Second)
	if err := login(1, servicetest.OwnerEmail, servicetest.OwnerPassword); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	for i := 0; i < service.LoginMaxFailuresPerEmail-1; i++ {
		wantCode(t, login(i, servicetest.OwnerEmail, "wrong-password"), chat.CodeUnauthenticated)
	}
	if err := login(0, servicetest.OwnerEmail, servicetest.OwnerPassword); err != nil {
		t.Fatalf("a success should have reset the count: %v", err)
	}

	// Old failures are pruned as new ones arrive: the table holds one
	// window at most.
	n.clock.Add(2 * service.LoginWindow)
	wantCode(t, login(0, "someone@example.com", "x-password"), chat.CodeUnauthenticated)
	for _, sub := range []string{"addr:192.0.2.1"} {
		at, err := n.store.NthLoginFailure(ctx, sub, 2, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if !at.IsZero() {
			t.Errorf("%s still has a failure from %v, older than the window", sub, at)
		}
		if at, _ := n.store.NthLoginFailure(ctx, sub, 1, time.Time{}); at.IsZero() {
			t.Errorf("%s lost its latest failure", sub)
		}
	}
}

func TestLoginLimitPerAddress(t *testing.T) {
	n := sqliteLoginNode(t)
	ctx := context.Background()
	svc := n.svcs[0]
	// Different emails from one address: under the per-email limit each,
	// but the address runs out.
	for i := 0; i < service.LoginMaxFailuresPerAddress; i++ {
		_, _, _, err := svc.LoginFrom(ctx, "198.51.100.7", chat.NewID()+"@example.com", "guess-password")
		wantCode(t, err, chat.CodeUnauthenticated)
	}
	_, _, _, err := svc.LoginFrom(ctx, "198.51.100.7", servicetest.OwnerEmail, servicetest.OwnerPassword)
	wantCode(t, err, chat.CodeRateLimited)
	// Another address still signs in.
	if _, _, _, err := svc.LoginFrom(ctx, "198.51.100.8", servicetest.OwnerEmail, servicetest.OwnerPassword); err != nil {
		t.Fatal(err)
	}
	n.clock.Add(service.LoginWindow + time.Second)
	if _, _, _, err := svc.LoginFrom(ctx, "198.51.100.7", servicetest.OwnerEmail, servicetest.OwnerPassword); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestLoginLimitHoldsUnderConcurrentGuesses(t *testing.T) {
	testLoginLimitConcurrent(t, sqliteLoginNode(t))
}
func TestLoginLimitHoldsUnderConcurrentGuessesTwoNodes(t *testing.T) {
	testLoginLimitConcurrent(t, postgresLoginNodes(t))
}

// testLoginLimitConcurrent sends a burst of wrong guesses at once, as an
// attacker would to slip past a limit checked before the password is: no
// more of them may reach the password check than the limit allows.
func testLoginLimitConcurrent(t *testing.T, n loginNodes) {
	ctx := context.Background()
	const burst = 4 * service.LoginMaxFailuresPerEmail
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, burst)
	)
	for i := range burst {
		wg.Go(func() {
			<-start
			addr := "192.0.2." + string(rune('0'+i%10))
			_, _, _, errs[i] = n.svcs[i%len(n.svcs)].LoginFrom(ctx, addr, servicetest.OwnerEmail, "guess-"+chat.NewID())
		})
	}
	close(start)
	wg.Wait()
	checked := 0
	for _, err := range errs {
		switch chat.ErrorCode(err) {
		case chat.CodeUnauthenticated:
			checked++
		case chat.CodeRateLimited:
		default:
			t.Fatalf("unexpected answer: %v", err)
		}
	}
	if checked > service.LoginMaxFailuresPerEmail {
		t.Errorf("%d of %d concurrent guesses had their password checked; the limit is %d", checked, burst, service.LoginMaxFailuresPerEmail)
	}
	// The burst used the quota: the right password now waits too.
	_, _, _, err := n.svcs[0].LoginFrom(ctx, "192.0.2.99", servicetest.OwnerEmail, servicetest.OwnerPassword)
	wantCode(t, err, chat.CodeRateLimited)
}
