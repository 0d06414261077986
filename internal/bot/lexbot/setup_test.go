package lexbot_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/bot/lexbot"
	"github.com/switchboard-chat/switchboard/internal/bot/lexbot/lextest"
	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

func lexSettings(srv lexlocaltest.Server, edit ...func(*lexbot.Settings)) lexbot.Settings {
	s := lexbot.Settings{
		Region: srv.Region, BotID: lexlocaltest.OrderBotID, BotAliasID: lexlocaltest.ProdAliasID,
		AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey, Endpoint: srv.URL,
	}
	for _, e := range edit {
		e(&s)
	}
	return s
}

// closedURL is a loopback address nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// silentURL accepts requests and never answers them until the test ends.
func silentURL(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(done) })
	return ts.URL
}

func TestValidateResolvesAndReadsLocales(t *testing.T) {
	srv := lexlocaltest.Start(t, lexlocaltest.Brain)
	st := lexbot.NewSetup(lexbot.SetupOptions{})
	ctx := context.Background()
	cases := []struct {
		name             string
		edit             func(*lexbot.Settings)
		bot, alias       string
		locales          []string
		defaultLocaleSet string
	}{
		{"ids", nil, lexlocaltest.OrderBotID, lexlocaltest.ProdAliasID, []string{"de_DE", "en_US"}, ""},
		{"bot and alias by name", func(s *lexbot.Settings) { s.BotID, s.BotAliasID = "OrderBot", "prod" },
			lexlocaltest.OrderBotID, lexlocaltest.ProdAliasID, []string{"de_DE", "en_US"}, ""},
		{"test alias by name, disabled locale left out", func(s *lexbot.Settings) { s.BotAliasID = "TestBotAlias"; s.DefaultLocale = "es_419" },
			lexlocaltest.OrderBotID, lexlocaltest.TestAliasID, []string{"en_US", "es_419"}, "es_419"},
		{"other bot by name, alias by id", func(s *lexbot.Settings) { s.BotID, s.BotAliasID = "SupportBot", lexlocaltest.LiveAliasID },
			lexlocaltest.SupportBotID, lexlocaltest.LiveAliasID, []string{"en_GB"}, ""},
		{"posted locales are replaced", func(s *lexbot.Settings) { s.Locales = []string{"xx_XX"} },
			lexlocaltest.OrderBotID, lexlocaltest.ProdAliasID, []string{"de_DE", "en_US"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := lexSettings(srv)
			if tc.edit != nil {
				tc.edit(&in)
			}
			got, err := st.Validate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.BotID != tc.bot || got.BotAliasID != tc.alias || !slices.Equal(got.Locales, tc.locales) || got.DefaultLocale != tc.defaultLocaleSet {
				t.Fatalf("got bot %s alias %s locales %v default %q", got.BotID, got.BotAliasID, got.Locales, got.DefaultLocale)
			}
			if got.SecretAccessKey != srv.SecretAccessKey || got.Endpoint != srv.URL {
				t.Fatal("validation changed the keys or endpoint")
			}
		})
	}
}

// Each way settings can be wrong has its own code, field and message; none
// of them contains the secret.
func TestValidateFailures(t *testing.T) {
	srv := lexlocaltest.Start(t, lexlocaltest.Brain)
	st := lexbot.NewSetup(lexbot.SetupOptions{CallTimeout: 300 * time.Millisecond})
	closed, silent := closedURL(t), silentURL(t)
	cases := []struct {
		name  string
		edit  func(*lexbot.Settings)
		code  chat.Code
		field string
		words []string
	}{
		{"unknown access key", func(s *lexbot.Settings) { s.AccessKeyID = "AKIAUNKNOWN000000000" },
			chat.CodeLexCredentialsInvalid, "lex.accessKeyId", []string{"did not accept", "UnrecognizedClientException"}},
		{"wrong secret", func(s *lexbot.Settings) { s.SecretAccessKey = "wrong+secret/0123456789" },
			chat.CodeLexCredentialsInvalid, "lex.accessKeyId", []string{"did not accept", "InvalidSignatureException"}},
		{"keys without AmazonLexReadOnly", func(s *lexbot.Settings) {
			s.AccessKeyID, s.SecretAccessKey = srv.RestrictedAccessKeyID, srv.RestrictedSecretAccessKey
		}, chat.CodeLexPermissionDenied, "lex.accessKeyId", []string{"AmazonLexReadOnly", "AmazonLexRunBotsOnly", "lex:DescribeBotAlias"}},
		{"restricted keys resolving a name", func(s *lexbot.Settings) {
			s.AccessKeyID, s.SecretAccessKey, s.BotID = srv.RestrictedAccessKeyID, srv.RestrictedSecretAccessKey, "OrderBot"
		}, chat.CodeLexPermissionDenied, "lex.accessKeyId", []string{"lex:ListBots", "AmazonLexReadOnly"}},
		{"unknown bot id", func(s *lexbot.Settings) { s.BotID = "NOSUCHBOT1" },
			chat.CodeLexBotNotFound, "lex.botId", []string{"NOSUCHBOT1"}},
		{"unknown bot name", func(s *lexbot.Settings) { s.BotID = "NoSuchBot" },
			chat.CodeLexBotNotFound, "lex.botId", []string{`"NoSuchBot"`}},
		{"unknown alias id", func(s *lexbot.Settings) { s.BotAliasID = "NOSUCHALI1" },
			chat.CodeLexAliasNotFound, "lex.botAliasId", []string{"NOSUCHALI1", "TSTALIASID"}},
		{"unknown alias name", func(s *lexbot.Settings) { s.BotAliasID = "staging" },
			chat.CodeLexAliasNotFound, "lex.botAliasId", []string{`"staging"`}},
		{"alias name of an unknown bot", func(s *lexbot.Settings) { s.BotID, s.BotAliasID = "NOSUCHBOT1", "prod" },
			chat.CodeLexBotNotFound, "lex.botId", nil},
		{"default locale not enabled", func(s *lexbot.Settings) { s.BotAliasID, s.DefaultLocale = lexlocaltest.TestAliasID, "fr_FR" },
			chat.CodeLexLocaleNotEnabled, "lex.defaultLocale", []string{"fr_FR", "en_US, es_419"}},
		{"region the endpoint does not serve", func(s *lexbot.Settings) { s.Region = "eu-south-9" },
			chat.CodeLexRegionInvalid, "lex.region", []string{"eu-south-9"}},
		{"closed port", func(s *lexbot.Settings) { s.Endpoint = closed },
			chat.CodeLexEndpointUnreachable, "lex.endpoint", []string{"could not reach", closed}},
		{"endpoint that never answers", func(s *lexbot.Settings) { s.Endpoint = silent },
			chat.CodeLexEndpointUnreachable, "lex.endpoint", []string{"did not answer in time"}},
		{"malformed region", func(s *lexbot.Settings) { s.Region = "mars" },
			chat.CodeInvalid, "lex.region", nil},
		{"metadata service", func(s *lexbot.Settings) { s.Endpoint = "http://169.254.169.254" },
			chat.CodeInvalid, "lex.endpoint", []string{"link-local"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := lexSettings(srv, tc.edit)
			start := time.Now()
			_, err := st.Validate(context.Background(), in)
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
			var ce *chat.Error
			if !errors.As(err, &ce) || ce.Code != tc.code || ce.Details["field"] != tc.field {
				t.Fatalf("got %v (details %v), want code %s on %s", err, detailsOf(ce), tc.code, tc.field)
			}
			t.Logf("%s: %s", ce.Code, ce.Message)
			for _, w := range tc.words {
				if !strings.Contains(ce.Message, w) {
					t.Errorf("message %q lacks %q", ce.Message, w)
				}
			}
			for _, secret := range []string{srv.SecretAccessKey, srv.RestrictedSecretAccessKey, in.SecretAccessKey} {
				if strings.Contains(ce.Message, secret) || strings.Contains(err.Error(), secret) {
					t.Fatalf("the secret leaked into %q", err.Error())
				}
			}
		})
	}
}

func TestValidateUsesEndpointFromEnvironment(t *testing.T) {
	srv := lexlocaltest.Start(t, lexlocaltest.Brain)
	st := lexbot.NewSetup(lexbot.SetupOptions{Endpoint: srv.URL})
	got, err := st.Validate(context.Background(), lexSettings(srv, func(s *lexbot.Settings) { s.Endpoint = "" }))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Locales, []string{"de_DE", "en_US"}) || got.Endpoint != "" {
		t.Fatalf("got %+v", got.Redacted())
	}
	// The bot's own endpoint wins over the environment's.
	_, err = st.Validate(context.Background(), lexSettings(srv, func(s *lexbot.Settings) { s.Endpoint = closedURL(t) }))
	if !chat.IsCode(err, chat.CodeLexEndpointUnreachable) {
		t.Fatalf("own endpoint ignored: %v", err)
	}
}

func TestDiscover(t *testing.T) {
	srv := lexlocaltest.Start(t, lexlocaltest.Brain)
	st := lexbot.NewSetup(lexbot.SetupOptions{})
	ctx := context.Background()
	in := lexbot.DiscoverInput{Region: srv.Region, AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey, Endpoint: srv.URL}
	bots, err := st.Discover(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []lexbot.DiscoveredBot{
		{BotID: lexlocaltest.OrderBotID, BotName: "OrderBot", Aliases: []lexbot.DiscoveredAlias{
			{BotAliasID: lexlocaltest.TestAliasID, BotAliasName: "TestBotAlias", Locales: []string{"en_US", "es_419"}},
			{BotAliasID: lexlocaltest.ProdAliasID, BotAliasName: "prod", Locales: []string{"de_DE", "en_US"}},
		}},
		{BotID: lexlocaltest.SupportBotID, BotName: "SupportBot", Aliases: []lexbot.DiscoveredAlias{
			{BotAliasID: lexlocaltest.LiveAliasID, BotAliasName: "live", Locales: []string{"en_GB"}},
		}},
	}
	if !discoveredEqual(bots, want) {
		t.Fatalf("Discover = %+v", bots)
	}

	restricted := in
	restricted.AccessKeyID, restricted.SecretAccessKey = srv.RestrictedAccessKeyID, srv.RestrictedSecretAccessKey
	_, err = st.Discover(ctx, restricted)
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Code != chat.CodeLexPermissionDenied || ce.Details["field"] != "accessKeyId" || !strings.Contains(ce.Message, "AmazonLexReadOnly") {
		t.Fatalf("restricted discovery: %v %v", err, detailsOf(ce))
	}

	for name, bad := range map[string]lexbot.DiscoverInput{
		"no region":      {AccessKeyID: srv.AccessKeyID, SecretAccessKey: "x"},
		"bad key id":     {Region: "eu-west-1", AccessKeyID: "nope", SecretAccessKey: "x"},
		"no secret":      {Region: "eu-west-1", AccessKeyID: srv.AccessKeyID},
		"metadata":       {Region: "eu-west-1", AccessKeyID: srv.AccessKeyID, SecretAccessKey: "x", Endpoint: "http://[::ffff:169.254.169.254]/"},
		"query endpoint": {Region: "eu-west-1", AccessKeyID: srv.AccessKeyID, SecretAccessKey: "x", Endpoint: "http://127.0.0.1/?a=b"},
	} {
		_, err := st.Discover(ctx, bad)
		if !errors.As(err, &ce) || ce.Code != chat.CodeInvalid || strings.HasPrefix(ce.Message, "lex.") || strings.HasPrefix(ce.Details["field"].(string), "lex.") {
			t.Errorf("%s: %v %v", name, err, detailsOf(ce))
		}
	}

	wrong := in
	wrong.Endpoint = closedURL(t)
	if _, err := st.Discover(ctx, wrong); !errors.As(err, &ce) || ce.Code != chat.CodeLexEndpointUnreachable || ce.Details["field"] != "endpoint" {
		t.Fatalf("closed endpoint: %v %v", err, detailsOf(ce))
	}
}

func discoveredEqual(a, b []lexbot.DiscoveredBot) bool {
	return slices.EqualFunc(a, b, func(x, y lexbot.DiscoveredBot) bool {
		return x.BotID == y.BotID && x.BotName == y.BotName && slices.EqualFunc(x.Aliases, y.Aliases, func(p, q lexbot.DiscoveredAlias) bool {
			return p.BotAliasID == q.BotAliasID && p.BotAliasName == q.BotAliasName && slices.Equal(p.Locales, q.Locales)
		})
	})
}

// Discovery stays within its time bound however slow Lex is.
func TestDiscoverTimeout(t *testing.T) {
	st := lexbot.NewSetup(lexbot.SetupOptions{CallTimeout: 5 * time.Second, TotalTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := st.Discover(context.Background(), lexbot.DiscoverInput{Region: "eu-west-1", AccessKeyID: "AKIAEXAMPLE000000000", SecretAccessKey: "s", Endpoint: silentURL(t)})
	if !chat.IsCode(err, chat.CodeLexEndpointUnreachable) || time.Since(start) > 3*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func detailsOf(e *chat.Error) map[string]any {
	if e == nil {
		return nil
	}
	return e.Details
}

// An endpoint that echoes the secret into its error message does not get
// it into the error's message or its logged cause.
func TestSetupErrorsNeverQuoteTheSecret(t *testing.T) {
	const secret = "echoed-secret-value-1234"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"no access for ` + secret + `"}`))
	}))
	t.Cleanup(ts.Close)
	st := lexbot.NewSetup(lexbot.SetupOptions{})
	_, err := st.Validate(context.Background(), lexbot.Settings{Region: "eu-west-1", BotID: lexlocaltest.OrderBotID, BotAliasID: lexlocaltest.TestAliasID,
		AccessKeyID: "AKIAEXAMPLE000000000", SecretAccessKey: secret, Endpoint: ts.URL})
	var ce *chat.Error
	if !errors.As(err, &ce) || ce.Code != chat.CodeLexPermissionDenied {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(ce.Message, "no access for ********") || !strings.Contains(err.Error(), "no access for ********") {
		t.Fatalf("secret not scrubbed: %q", err.Error())
	}
}

// The scripted endpoint's model API, which the end-to-end tests save Lex
// bots against, is read by the SDK as AWS's is: names resolve, only
// enabled locales count, and an unknown bot or alias is told apart.
func TestValidateAgainstScriptedModelAPI(t *testing.T) {
	lex := lextest.New(t)
	lex.Describe(lextest.Alias{BotID: lextest.BotID, BotName: lextest.BotName, AliasID: lextest.AliasID, AliasName: lextest.AliasName,
		Locales: map[string]bool{"pt_BR": true, "en_US": true, "de_DE": false}})
	st := lexbot.NewSetup(lexbot.SetupOptions{})
	in := lexbot.Settings{Region: "eu-west-2", BotID: lextest.BotName, BotAliasID: lextest.AliasName,
		AccessKeyID: "AKIATESTKEY0000001", SecretAccessKey: "scripted-secret", Endpoint: lex.URL}
	got, err := st.Validate(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got.BotID != lextest.BotID || got.BotAliasID != lextest.AliasID || !slices.Equal(got.Locales, []string{"en_US", "pt_BR"}) {
		t.Fatalf("validated = %+v", got)
	}
	var ops []string
	for _, c := range lex.ModelCalls() {
		ops = append(ops, c.Op)
		if c.Scope.Service != "lex" || c.Scope.Region != "eu-west-2" || c.Scope.KeyID != in.AccessKeyID {
			t.Errorf("%s signed with scope %+v", c.Op, c.Scope)
		}
	}
	if !slices.Equal(ops, []string{"ListBots", "ListBotAliases", "DescribeBotAlias"}) {
		t.Fatalf("model calls = %v", ops)
	}

	for _, tc := range []struct {
		bot, alias string
		code       chat.Code
	}{
		{lextest.BotID, "NOSUCHALI1", chat.CodeLexAliasNotFound},
		{"ZZZZZZZZZZ", lextest.AliasID, chat.CodeLexBotNotFound},
		{"NoSuchBot", lextest.AliasID, chat.CodeLexBotNotFound},
	} {
		in.BotID, in.BotAliasID = tc.bot, tc.alias
		if _, err := st.Validate(context.Background(), in); chat.ErrorCode(err) != tc.code {
			t.Errorf("bot %s alias %s: %v, want %s", tc.bot, tc.alias, err, tc.code)
		}
	}
	if bad := lex.Malformed(); len(bad) != 0 {
		t.Fatalf("requests the endpoint did not recognise: %v", bad)
	}
}
