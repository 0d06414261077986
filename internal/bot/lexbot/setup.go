package lexbot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelsv2"
	mtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelsv2/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/switchboard-chat/switchboard/internal/chat"
)

// ModelsEndpointEnv is AWS's standard variable for the Lex V2 model API
// endpoint (SPEC §4.1), read by the config into SetupOptions.Endpoint; a
// bot's own endpoint setting takes precedence.
const ModelsEndpointEnv = "AWS_ENDPOINT_URL_LEX_MODELS_V2"

// Bounds of setup's calls to the model API. Validation is a few calls made
// while an admin waits; discovery walks a whole account, so it is bounded in
// bots, aliases, parallel calls and total time.
const (
	DefaultSetupCallTimeout  = 10 * time.Second
	DefaultSetupTotalTimeout = 30 * time.Second
	MaxDiscoveredBots        = 200
	MaxDiscoveredAliases     = 50 // per bot
	discoverConcurrency      = 4
	listPageSize             = 50
	// maxNamePages bounds the pages read while resolving a name.
	maxNamePages = 20
)

// SetupOptions configure a Setup. The zero value is ready for production.
type SetupOptions struct {
	// HTTPClient carries the model-API calls; nil means a client that
	// refuses link-local destinations.
	HTTPClient *http.Client
	// CallTimeout bounds each model-API call; 0 means
	// DefaultSetupCallTimeout.
	CallTimeout time.Duration
	// TotalTimeout bounds a whole validation or discovery, however many
	// calls it takes; 0 means DefaultSetupTotalTimeout.
	TotalTimeout time.Duration
	// Endpoint is the model-API endpoint for settings that name none
	// (ModelsEndpointEnv); empty means AWS's own.
	Endpoint string
}

// Setup checks Lex settings against the model API and lists an account's
// bots, with the official lexmodelsv2 client. It is safe for concurrent use.
type Setup struct {
	http         *http.Client
	envEndpoint  string
	callTimeout  time.Duration
	totalTimeout time.Duration
}

// NewSetup returns a Setup.
func NewSetup(o SetupOptions) *Setup {
	st := &Setup{http: o.HTTPClient, envEndpoint: o.Endpoint, callTimeout: o.CallTimeout, totalTimeout: o.TotalTimeout}
	if st.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// A host name is checked where it is dialled, after DNS, so a
		// name that resolves to the metadata service is refused too.
		tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, Control: refuseLinkLocal}).DialContext
		st.http = &http.Client{Transport: tr}
	}
	if st.callTimeout <= 0 {
		st.callTimeout = DefaultSetupCallTimeout
	}
	if st.totalTimeout <= 0 {
		st.totalTimeout = DefaultSetupTotalTimeout
	}
	return st
}

var errLinkLocal = errors.New("link-local destinations are refused")

func refuseLinkLocal(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(host); err == nil && isLinkLocal(ip) {
		return errLinkLocal
	}
	return nil
}

// account is what every model-API call needs: where, and as whom. form is
// the prefix of the request's field names ("lex." in a bot's settings), so
// errors point at the field as the client sent it.
type account struct {
	region, accessKeyID, secret, endpoint string
	form                                  string
}

func (st *Setup) client(a account) (*lexmodelsv2.Client, string) {
	endpoint := a.endpoint
	if endpoint == "" {
		endpoint = st.envEndpoint
	}
	o := lexmodelsv2.Options{
		Region:      a.region,
		Credentials: credentials.NewStaticCredentialsProvider(a.accessKeyID, a.secret, ""),
		HTTPClient:  st.http,
		// An admin is waiting: a retry would only make a wrong setting
		// take longer to report.
		RetryMaxAttempts: 1,
	}
	if endpoint != "" {
		o.BaseEndpoint = aws.String(endpoint)
	}
	return lexmodelsv2.New(o), endpoint
}

// call runs one model-API call under the per-call timeout.
func call[T any](ctx context.Context, st *Setup, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, st.callTimeout)
	defer cancel()
	return f(ctx)
}

// Validate checks s against Lex: the keys, the permission to read the bot,
// that the bot and alias exist. It returns s with a bot or alias given by
// name replaced by its id and Locales set to the alias's enabled locales,
// sorted. Failures are *chat.Error values with a CodeLex* code (CodeInvalid
// for settings of the wrong form), whose messages never hold the secret.
func (st *Setup) Validate(ctx context.Context, s Settings) (Settings, error) {
	s.Locales = nil
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, st.totalTimeout)
	defer cancel()
	a := account{region: s.Region, accessKeyID: s.AccessKeyID, secret: s.SecretAccessKey, endpoint: s.Endpoint, form: "lex."}
	c, endpoint := st.client(a)
	fail := func(op string, err error) error { return setupError(ctx, op, err, a, endpoint) }
	// Lex answers ResourceNotFoundException for an unknown bot and for
	// an unknown alias alike; DescribeBot tells which.
	failOnBot := func(op string, err error) error {
		var nf *mtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			return fail(op, err)
		}
		_, derr := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.DescribeBotOutput, error) {
			return c.DescribeBot(ctx, &lexmodelsv2.DescribeBotInput{BotId: aws.String(s.BotID)})
		})
		if derr != nil {
			return fail("DescribeBot", derr)
		}
		return chat.Errorf(chat.CodeLexAliasNotFound, "Lex bot %s has no alias %s: check lex.botAliasId (TSTALIASID is the test alias)", s.BotID, s.BotAliasID).
			WithDetail("field", "lex.botAliasId").WithDetail("awsError", errNotFound)
	}

	if !s.IsBotID() {
		id, err := st.botIDByName(ctx, c, s.BotID)
		if err != nil {
			return Settings{}, fail("ListBots", err)
		}
		if id == "" {
			return Settings{}, chat.Errorf(chat.CodeLexBotNotFound, "there is no Lex bot named %q in %s for these keys", s.BotID, s.Region).
				WithDetail("field", "lex.botId")
		}
		s.BotID = id
	}
	if !s.IsAliasID() {
		id, err := st.aliasIDByName(ctx, c, s.BotID, s.BotAliasID)
		if err != nil {
			return Settings{}, fail("ListBotAliases", err)
		}
		if id == "" {
			return Settings{}, chat.Errorf(chat.CodeLexAliasNotFound, "Lex bot %s has no alias named %q", s.BotID, s.BotAliasID).
				WithDetail("field", "lex.botAliasId")
		}
		s.BotAliasID = id
	}
	out, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.DescribeBotAliasOutput, error) {
		return c.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(s.BotID), BotAliasId: aws.String(s.BotAliasID)})
	})
	if err != nil {
		return Settings{}, failOnBot("DescribeBotAlias", err)
	}
	s.Locales = enabledLocales(out.BotAliasLocaleSettings)
	if len(s.Locales) == 0 {
		return Settings{}, chat.Errorf(chat.CodeLexLocaleNotEnabled, "alias %s of Lex bot %s has no enabled locale: enable at least one on the alias", s.BotAliasID, s.BotID).
			WithDetail("field", "lex.botAliasId")
	}
	if s.DefaultLocale != "" && !slices.Contains(s.Locales, s.DefaultLocale) {
		return Settings{}, chat.Errorf(chat.CodeLexLocaleNotEnabled, "lex.defaultLocale %s is not enabled on alias %s; enabled: %s",
			s.DefaultLocale, s.BotAliasID, strings.Join(s.Locales, ", ")).WithDetail("field", "lex.defaultLocale")
	}
	return s, nil
}

func enabledLocales(m map[string]mtypes.BotAliasLocaleSettings) []string {
	var out []string
	for id, l := range m {
		if l.Enabled {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// botIDByName pages through the bots named name (Lex filters, this checks
// the exact name, as the filter's EQ semantics are Lex's to define); ""
// means none.
func (st *Setup) botIDByName(ctx context.Context, c *lexmodelsv2.Client, name string) (string, error) {
	p := lexmodelsv2.NewListBotsPaginator(c, &lexmodelsv2.ListBotsInput{
		MaxResults: aws.Int32(listPageSize),
		Filters:    []mtypes.BotFilter{{Name: mtypes.BotFilterNameBotName, Operator: mtypes.BotFilterOperatorEquals, Values: []string{name}}},
	})
	for i := 0; i < maxNamePages && p.HasMorePages(); i++ {
		page, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.ListBotsOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return "", err
		}
		for _, b := range page.BotSummaries {
			if aws.ToString(b.BotName) == name {
				return aws.ToString(b.BotId), nil
			}
		}
	}
	return "", nil
}

func (st *Setup) aliasIDByName(ctx context.Context, c *lexmodelsv2.Client, botID, name string) (string, error) {
	p := lexmodelsv2.NewListBotAliasesPaginator(c, &lexmodelsv2.ListBotAliasesInput{BotId: aws.String(botID), MaxResults: aws.Int32(listPageSize)})
	for i := 0; i < maxNamePages && p.HasMorePages(); i++ {
		page, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.ListBotAliasesOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return "", err
		}
		for _, a := range page.BotAliasSummaries {
			if aws.ToString(a.BotAliasName) == name {
				return aws.ToString(a.BotAliasId), nil
			}
		}
	}
	return "", nil
}

// DiscoverInput is what discovery needs: an account's keys and region.
type DiscoverInput struct {
	Region          string `json:"region"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	Endpoint        string `json:"endpoint,omitempty"`
}

// DiscoveredBot is a bot of the account, with its aliases.
type DiscoveredBot struct {
	BotID   string            `json:"botId"`
	BotName string            `json:"botName"`
	Aliases []DiscoveredAlias `json:"aliases"`
}

// DiscoveredAlias is an alias with its enabled locales, sorted.
type DiscoveredAlias struct {
	BotAliasID   string   `json:"botAliasId"`
	BotAliasName string   `json:"botAliasName"`
	Locales      []string `json:"locales"`
}

func (in DiscoverInput) validate() error {
	// The same rules as a bot's settings, on a form whose fields are not
	// nested under "lex".
	s := Settings{Region: in.Region, BotID: "DISCOVERY0", BotAliasID: "TSTALIASID", AccessKeyID: in.AccessKeyID,
		SecretAccessKey: in.SecretAccessKey, Endpoint: in.Endpoint}
	err := s.Validate()
	var ce *chat.Error
	if errors.As(err, &ce) {
		out := *ce
		out.Message = strings.TrimPrefix(out.Message, "lex.")
		if f, ok := out.Details["field"].(string); ok {
			out.Details = map[string]any{"field": strings.TrimPrefix(f, "lex.")}
		}
		return &out
	}
	return err
}

// Discover lists the account's bots (at most MaxDiscoveredBots, by name),
// each with its aliases (at most MaxDiscoveredAliases) and their enabled
// locales. Calls run at most four at a time, and the whole walk within
// the total timeout. Errors are as Validate's.
func (st *Setup) Discover(ctx context.Context, in DiscoverInput) ([]DiscoveredBot, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, st.totalTimeout)
	defer cancel()
	a := account{region: in.Region, accessKeyID: in.AccessKeyID, secret: in.SecretAccessKey, endpoint: in.Endpoint}
	c, endpoint := st.client(a)

	var bots []DiscoveredBot
	p := lexmodelsv2.NewListBotsPaginator(c, &lexmodelsv2.ListBotsInput{
		MaxResults: aws.Int32(listPageSize),
		SortBy:     &mtypes.BotSortBy{Attribute: mtypes.BotSortAttributeBotName, Order: mtypes.SortOrderAscending},
	})
	for p.HasMorePages() && len(bots) < MaxDiscoveredBots {
		page, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.ListBotsOutput, error) { return p.NextPage(ctx) })
		if err != nil {
			return nil, setupError(ctx, "ListBots", err, a, endpoint)
		}
		for _, b := range page.BotSummaries {
			if len(bots) == MaxDiscoveredBots {
				break
			}
			bots = append(bots, DiscoveredBot{BotID: aws.ToString(b.BotId), BotName: aws.ToString(b.BotName), Aliases: []DiscoveredAlias{}})
		}
	}

	// A fixed pool of workers takes bots from a channel: never more than
	// discoverConcurrency calls in flight, and the first failure stops
	// the rest through the shared context.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var (
		failOnce sync.Once
		failed   error
		wg       sync.WaitGroup
	)
	jobs := make(chan int)
	for range min(discoverConcurrency, len(bots)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				aliases, err := st.discoverAliases(ctx, c, bots[i].BotID)
				if err != nil {
					failOnce.Do(func() {
						failed = setupError(ctx, "ListBotAliases", err, a, endpoint)
						stop()
					})
					continue
				}
				bots[i].Aliases = aliases
			}
		}()
	}
	fed := 0
feed:
	for i := range bots {
		select {
		case jobs <- i:
			fed++
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	if fed < len(bots) {
		return nil, setupError(ctx, "discovery", ctx.Err(), a, endpoint)
	}
	return bots, nil
}

// discoverAliases lists one bot's aliases and reads each one's locales. An
// alias deleted between the two calls is left out rather than failing the
// whole discovery.
func (st *Setup) discoverAliases(ctx context.Context, c *lexmodelsv2.Client, botID string) ([]DiscoveredAlias, error) {
	out := []DiscoveredAlias{}
	p := lexmodelsv2.NewListBotAliasesPaginator(c, &lexmodelsv2.ListBotAliasesInput{BotId: aws.String(botID), MaxResults: aws.Int32(listPageSize)})
	for p.HasMorePages() && len(out) < MaxDiscoveredAliases {
		page, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.ListBotAliasesOutput, error) { return p.NextPage(ctx) })
		var nf *mtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			return out, nil // the bot was deleted since ListBots
		}
		if err != nil {
			return nil, err
		}
		for _, s := range page.BotAliasSummaries {
			if len(out) == MaxDiscoveredAliases {
				break
			}
			out = append(out, DiscoveredAlias{BotAliasID: aws.ToString(s.BotAliasId), BotAliasName: aws.ToString(s.BotAliasName)})
		}
	}
	kept := out[:0]
	for _, al := range out {
		d, err := call(ctx, st, func(ctx context.Context) (*lexmodelsv2.DescribeBotAliasOutput, error) {
			return c.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String(al.BotAliasID)})
		})
		var nf *mtypes.ResourceNotFoundException
		if errors.As(err, &nf) {
			continue
		}
		if err != nil {
			return nil, err
		}
		al.Locales = enabledLocales(d.BotAliasLocaleSettings)
		if al.Locales == nil {
			al.Locales = []string{}
		}
		kept = append(kept, al)
	}
	return kept, nil
}

// scrubbed is a cause kept for logs, with the secret cut out of its text
// in case an endpoint echoed it into an error message.
type scrubbed struct {
	err    error
	secret string
}

func (s scrubbed) Error() string {
	if s.secret == "" {
		return s.err.Error()
	}
	return strings.ReplaceAll(s.err.Error(), s.secret, RedactedValue)
}

func (s scrubbed) Unwrap() error { return s.err }

// setupError turns a failed model-API call into the *chat.Error an admin
// sees. Each remedy has its own code; Lex's own message is quoted when it
// adds something (which resource, which action), with the secret removed
// in case an endpoint echoed it.
func setupError(parent context.Context, op string, err error, a account, endpoint string) error {
	var ce *chat.Error
	if errors.As(err, &ce) {
		return ce
	}
	var api smithy.APIError
	code, awsMsg := "", ""
	if errors.As(err, &api) {
		code = api.ErrorCode()
		awsMsg = strings.TrimSpace(api.ErrorMessage())
		if a.secret != "" {
			awsMsg = strings.ReplaceAll(awsMsg, a.secret, RedactedValue)
		}
		awsMsg = truncateRunes(oneLine(awsMsg), maxAWSMessage)
	}
	quote := func(msg string) string {
		if awsMsg == "" {
			return msg
		}
		return msg + " (Lex said: " + awsMsg + ")"
	}
	where := "Lex in " + a.region
	if endpoint != "" {
		where = endpoint
	}
	f := func(name string) string { return a.form + name }
	mk := func(c chat.Code, field, msg string) error {
		e := chat.Errorf(c, "%s", msg)
		if field != "" {
			e = e.WithDetail("field", field)
		}
		if code != "" {
			e = e.WithDetail("awsError", knownLabel(code))
		}
		e.Cause = scrubbed{err, a.secret}
		return e
	}
	var status int
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}

	switch {
	case code == errInvalidSignature && strings.Contains(awsMsg, "scoped to a valid region"):
		return mk(chat.CodeLexRegionInvalid, f("region"), quote(fmt.Sprintf("%s does not serve region %s: check %s", where, a.region, f("region"))))
	case code == errUnrecognized || code == errInvalidSignature || code == errSignatureMismatch || code == errExpiredToken ||
		strings.Contains(strings.ToLower(awsMsg), "security token"):
		return mk(chat.CodeLexCredentialsInvalid, f("accessKeyId"), quote(fmt.Sprintf(
			"%s did not accept the access key id and secret access key (%s): check both keys", where, knownLabel(code))))
	case code == errAccessDenied || status == http.StatusForbidden:
		return mk(chat.CodeLexPermissionDenied, f("accessKeyId"), quote(fmt.Sprintf(
			"the keys are valid but may not call lex:%s: give their IAM user the AmazonLexReadOnly policy (for validation and discovery) and AmazonLexRunBotsOnly (for conversations)", op)))
	case code == errNotFound:
		return mk(chat.CodeLexBotNotFound, f("botId"), quote(fmt.Sprintf("%s has no such bot for these keys: check %s and %s", where, f("botId"), f("region"))))
	case code == errValidation || code == errBadRequest:
		return mk(chat.CodeInvalid, "", quote("Lex refused the settings as invalid"))
	case code == errThrottling || status == http.StatusTooManyRequests || status >= 500:
		return mk(chat.CodeUnavailable, "", quote(fmt.Sprintf("%s is busy or failing (HTTP %d); try again in a moment", where, status)))
	case status >= 400:
		return mk(chat.CodeLexEndpointUnreachable, f("endpoint"), quote(fmt.Sprintf("%s answered HTTP %d to %s: is it a Lex V2 model API endpoint?", where, status, op)))
	}

	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return mk(chat.CodeLexEndpointUnreachable, f("endpoint"), fmt.Sprintf("the answer of %s to %s is not a Lex response: check %s", where, op, f("endpoint")))
	}
	if parent.Err() != nil && !errors.Is(parent.Err(), context.DeadlineExceeded) {
		return mk(chat.CodeUnavailable, "", "the request was cancelled before Lex answered")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		if endpoint == "" {
			return mk(chat.CodeLexRegionInvalid, f("region"), fmt.Sprintf("Lex has no endpoint in region %s: check %s", a.region, f("region")))
		}
		return mk(chat.CodeLexEndpointUnreachable, f("endpoint"), fmt.Sprintf("the host of %s does not exist: check %s", endpoint, f("endpoint")))
	}
	if errors.Is(err, errLinkLocal) {
		return mk(chat.CodeLexEndpointUnreachable, f("endpoint"), fmt.Sprintf("%s resolves to a link-local address, which is refused", where))
	}
	field := f("endpoint")
	if endpoint == "" {
		field = f("region")
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return mk(chat.CodeLexEndpointUnreachable, field, fmt.Sprintf("%s did not answer in time", where))
	}
	return mk(chat.CodeLexEndpointUnreachable, field, fmt.Sprintf("could not reach %s", where))
}
