package lexlocal_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelsv2"
	mtypes "github.com/aws/aws-sdk-go-v2/service/lexmodelsv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	rtypes "github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"
	"github.com/aws/smithy-go"

	"github.com/switchboard-chat/switchboard/internal/lexlocal"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

const (
	testKey    = "AKIDLOCALTEST000001"
	testSecret = "local/secret+key"
	region     = "us-east-1"
)

// recorder keeps the last raw response body, so tests can assert on the
// wire bytes as well as on what the SDK parsed from them.
type recorder struct {
	mu   sync.Mutex
	next http.RoundTripper
	// mutate, if set, rewrites the request body after the SDK signed it.
	mutate func([]byte) []byte
	last   []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.mutate != nil && req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		b = r.mutate(b)
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.last = b
	r.mu.Unlock()
	return resp, nil
}

func (r *recorder) body() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

type env struct {
	url     string
	rec     *recorder
	runtime *lexruntimev2.Client
	models  *lexmodelsv2.Client
}

type clientCfg struct {
	key, secret, region string
}

func newEnv(t *testing.T, mod func(*lexlocal.Options)) *env {
	t.Helper()
	opts := lexlocal.Options{AccessKeyID: testKey, SecretAccessKey: testSecret, Region: region, Brain: echoBrain{}}
	if mod != nil {
		mod(&opts)
	}
	srv, err := lexlocal.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &env{url: ts.URL, rec: &recorder{next: ts.Client().Transport}}
	e.runtime, e.models = e.clients(clientCfg{testKey, testSecret, region})
	return e
}

func (e *env) clients(c clientCfg) (*lexruntimev2.Client, *lexmodelsv2.Client) {
	creds := credentials.NewStaticCredentialsProvider(c.key, c.secret, "")
	hc := &http.Client{Transport: e.rec}
	// One attempt: retryable errors (throttling, 5xx, skew) must reach the
	// test as they came off the wire.
	rt := lexruntimev2.New(lexruntimev2.Options{Region: c.region, Credentials: creds, BaseEndpoint: aws.String(e.url), HTTPClient: hc, RetryMaxAttempts: 1})
	md := lexmodelsv2.New(lexmodelsv2.Options{Region: c.region, Credentials: creds, BaseEndpoint: aws.String(e.url), HTTPClient: hc, RetryMaxAttempts: 1})
	return rt, md
}

func recognize(ctx context.Context, c *lexruntimev2.Client, locale, session, text string) (*lexruntimev2.RecognizeTextOutput, error) {
	return c.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(botID), BotAliasId: aws.String(aliasID), LocaleId: aws.String(locale),
		SessionId: aws.String(session), Text: aws.String(text),
	})
}

func TestRecognizeTextRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	out, err := recognize(ctx, e.runtime, "en_US", "session-1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(e.rec.body(), []byte(`"slots":{"Word":null}`)) {
		t.Fatalf("unfilled slot must be null on the wire: %s", e.rec.body())
	}
	st := out.SessionState
	if st.DialogAction.Type != rtypes.DialogActionTypeElicitSlot || aws.ToString(st.DialogAction.SlotToElicit) != "Word" {
		t.Fatalf("dialog action = %+v", st.DialogAction)
	}
	if slot, ok := st.Intent.Slots["Word"]; !ok || slot.Value != nil {
		t.Fatalf("null slot should parse as present and empty, got %+v (present %v)", slot, ok)
	}
	if st.Intent.State != rtypes.IntentStateInProgress || aws.ToString(st.OriginatingRequestId) == "" {
		t.Fatalf("intent state %q, originatingRequestId %q", st.Intent.State, aws.ToString(st.OriginatingRequestId))
	}
	if len(out.Messages) != 2 || out.Messages[1].ContentType != rtypes.MessageContentTypeImageResponseCard ||
		aws.ToString(out.Messages[1].ImageResponseCard.Buttons[0].Value) != "say hi" {
		t.Fatalf("messages = %+v", out.Messages)
	}
	if len(out.Interpretations) != 2 || out.Interpretations[0].NluConfidence == nil || out.Interpretations[0].NluConfidence.Score != 0.91 {
		t.Fatalf("interpretations = %+v", out.Interpretations)
	}
	if fb := out.Interpretations[1]; aws.ToString(fb.Intent.Name) != "FallbackIntent" || fb.NluConfidence != nil {
		t.Fatalf("FallbackIntent must carry no nluConfidence: %+v", fb)
	}
	if bytes.Contains(e.rec.body(), []byte(`"score":0,`)) || !bytes.Contains(e.rec.body(), []byte(`{"intent":{"name":"FallbackIntent","slots":{}},"interpretationSource":"Lex"}`)) {
		t.Fatalf("FallbackIntent interpretation wire shape: %s", e.rec.body())
	}

	out, err = recognize(ctx, e.runtime, "en_US", "session-1", "say hi")
	if err != nil {
		t.Fatal(err)
	}
	st = out.SessionState
	if st.DialogAction.Type != rtypes.DialogActionTypeClose || st.Intent.State != rtypes.IntentStateFulfilled {
		t.Fatalf("second turn state %+v", st)
	}
	if v := st.Intent.Slots["Word"].Value; v == nil || aws.ToString(v.InterpretedValue) != "hi" {
		t.Fatalf("filled slot = %+v", st.Intent.Slots["Word"])
	}
	if st.SessionAttributes["turns"] != "2" {
		t.Fatalf("session attributes not kept between turns: %v", st.SessionAttributes)
	}
	if aws.ToString(out.SessionId) != "session-1" {
		t.Fatalf("sessionId = %q", aws.ToString(out.SessionId))
	}
}

// A client-sent sessionState replaces the stored one, and request attributes
// are echoed back.
func TestRecognizeTextClientState(t *testing.T) {
	e := newEnv(t, nil)
	out, err := e.runtime.RecognizeText(context.Background(), &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(botID), BotAliasId: aws.String(aliasID), LocaleId: aws.String("es_419"),
		SessionId: aws.String("s2"), Text: aws.String("hola"),
		SessionState:      &rtypes.SessionState{SessionAttributes: map[string]string{"turns": "41", "lang": "es"}},
		RequestAttributes: map[string]string{"attachments": `[{"type":"location"}]`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.SessionState.SessionAttributes["turns"] != "42" || out.SessionState.SessionAttributes["lang"] != "es" {
		t.Fatalf("attributes = %v", out.SessionState.SessionAttributes)
	}
	if out.RequestAttributes["attachments"] != `[{"type":"location"}]` {
		t.Fatalf("request attributes = %v", out.RequestAttributes)
	}
}

func gunzipJSON(t *testing.T, s string, v any) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(zr).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestSessionOperations(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	ids := func() (*string, *string, *string, *string) {
		// A ':' is legal in a session id and travels percent-encoded.
		return aws.String(botID), aws.String(aliasID), aws.String("en_US"), aws.String("conv:42.a_b-c")
	}
	b, a, l, s := ids()

	put, err := e.runtime.PutSession(ctx, &lexruntimev2.PutSessionInput{
		BotId: b, BotAliasId: a, LocaleId: l, SessionId: s,
		SessionState: &rtypes.SessionState{
			SessionAttributes: map[string]string{"handoff": "false"},
			DialogAction:      &rtypes.DialogAction{Type: rtypes.DialogActionTypeElicitIntent},
		},
		Messages: []rtypes.Message{{Content: aws.String("hi"), ContentType: rtypes.MessageContentTypePlainText}},
	})
	if err != nil {
		t.Fatal(err)
	}
	put.AudioStream.Close()
	if aws.ToString(put.SessionId) != "conv:42.a_b-c" || !strings.HasPrefix(aws.ToString(put.ContentType), "text/plain") {
		t.Fatalf("PutSession headers: id %q type %q", aws.ToString(put.SessionId), aws.ToString(put.ContentType))
	}
	var putState lexlocal.SessionState
	gunzipJSON(t, aws.ToString(put.SessionState), &putState)
	if putState.SessionAttributes["handoff"] != "false" {
		t.Fatalf("PutSession session state header = %+v", putState)
	}
	var putMsgs []lexlocal.Message
	gunzipJSON(t, aws.ToString(put.Messages), &putMsgs)
	if len(putMsgs) != 1 || putMsgs[0].Content != "hi" {
		t.Fatalf("PutSession messages header = %+v", putMsgs)
	}

	got, err := e.runtime.GetSession(ctx, &lexruntimev2.GetSessionInput{BotId: b, BotAliasId: a, LocaleId: l, SessionId: s})
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionState.SessionAttributes["handoff"] != "false" || len(got.Messages) != 1 || aws.ToString(got.SessionId) != "conv:42.a_b-c" {
		t.Fatalf("GetSession = %+v", got)
	}

	// The stored state feeds the next turn.
	out, err := recognize(ctx, e.runtime, "en_US", "conv:42.a_b-c", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if out.SessionState.SessionAttributes["handoff"] != "false" || out.SessionState.SessionAttributes["turns"] != "1" {
		t.Fatalf("state after PutSession + turn = %v", out.SessionState.SessionAttributes)
	}
	got, err = e.runtime.GetSession(ctx, &lexruntimev2.GetSessionInput{BotId: b, BotAliasId: a, LocaleId: l, SessionId: s})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Interpretations) != 2 || got.SessionState.Intent == nil {
		t.Fatalf("GetSession after a turn = %+v", got)
	}

	del, err := e.runtime.DeleteSession(ctx, &lexruntimev2.DeleteSessionInput{BotId: b, BotAliasId: a, LocaleId: l, SessionId: s})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.SessionId) != "conv:42.a_b-c" || aws.ToString(del.BotId) != botID || aws.ToString(del.LocaleId) != "en_US" {
		t.Fatalf("DeleteSession = %+v", del)
	}
	_, err = e.runtime.GetSession(ctx, &lexruntimev2.GetSessionInput{BotId: b, BotAliasId: a, LocaleId: l, SessionId: s})
	var nf *rtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetSession after delete: %v", err)
	}
}

func TestModelOperations(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	bot, err := e.models.DescribeBot(ctx, &lexmodelsv2.DescribeBotInput{BotId: aws.String(botID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(bot.BotName) != "EchoBot" || aws.ToInt32(bot.IdleSessionTTLInSeconds) != 600 ||
		bot.BotStatus != mtypes.BotStatusAvailable || !bot.CreationDateTime.Equal(created) {
		t.Fatalf("DescribeBot = %+v", bot)
	}

	alias, err := e.models.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String(prodID)})
	if err != nil {
		t.Fatal(err)
	}
	en := alias.BotAliasLocaleSettings["en_US"]
	if !en.Enabled || en.CodeHookSpecification == nil ||
		!strings.HasSuffix(aws.ToString(en.CodeHookSpecification.LambdaCodeHook.LambdaARN), ":function:hook") ||
		aws.ToString(alias.BotVersion) != "1" || alias.BotAliasStatus != mtypes.BotAliasStatusAvailable {
		t.Fatalf("DescribeBotAlias = %+v", alias)
	}
	test, err := e.models.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String(aliasID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(test.BotAliasLocaleSettings) != 3 || test.BotAliasLocaleSettings["fr_FR"].Enabled {
		t.Fatalf("test alias locales = %+v", test.BotAliasLocaleSettings)
	}

	var names []string
	p := lexmodelsv2.NewListBotAliasesPaginator(e.models, &lexmodelsv2.ListBotAliasesInput{BotId: aws.String(botID), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.BotAliasSummaries {
			names = append(names, aws.ToString(s.BotAliasName))
		}
	}
	if strings.Join(names, ",") != "TestBotAlias,prod" {
		t.Fatalf("ListBotAliases pages = %v", names)
	}
}

func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestRuntimeErrorsAreTyped(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	is := func(target any) func(error) bool { return func(err error) bool { return errors.As(err, target) } }
	long := strings.Repeat("é", 1025)
	cases := []struct {
		name, locale, session, text string
		alias                       string
		status                      int
		match                       func(error) bool
	}{
		{"throttling", "en_US", "s1", "error:ThrottlingException", aliasID, 429, is(new(*rtypes.ThrottlingException))},
		{"access denied", "en_US", "s1", "error:AccessDeniedException", aliasID, 403, is(new(*rtypes.AccessDeniedException))},
		{"internal", "en_US", "s1", "error:InternalServerException", aliasID, 500, is(new(*rtypes.InternalServerException))},
		{"plain error hides detail", "en_US", "s1", "boom", aliasID, 500, func(err error) bool {
			var ie *rtypes.InternalServerException
			return errors.As(err, &ie) && !strings.Contains(ie.ErrorMessage(), "secret")
		}},
		{"conflict", "en_US", "s1", "error:ConflictException", aliasID, 409, is(new(*rtypes.ConflictException))},
		{"dependency failed", "en_US", "s1", "error:DependencyFailedException", aliasID, 424, is(new(*rtypes.DependencyFailedException))},
		{"bad gateway", "en_US", "s1", "error:BadGatewayException", aliasID, 502, is(new(*rtypes.BadGatewayException))},
		{"brain not found", "en_US", "s1", "error:ResourceNotFoundException", aliasID, 404, is(new(*rtypes.ResourceNotFoundException))},
		{"text over 1024 characters", "en_US", "s1", long, aliasID, 400, is(new(*rtypes.ValidationException))},
		{"empty text", "en_US", "s1", "", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"session id too short", "en_US", "s", "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"session id bad character", "en_US", "has space", "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"session id too long", "en_US", strings.Repeat("a", 101), "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"malformed locale", "english", "s1", "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"locale not enabled", "fr_FR", "s1", "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"locale absent from alias", "de_DE", "s1", "hi", aliasID, 400, is(new(*rtypes.ValidationException))},
		{"unknown alias", "en_US", "s1", "hi", "NOSUCHALIA", 404, is(new(*rtypes.ResourceNotFoundException))},
		{"malformed alias", "en_US", "s1", "hi", "short", 400, is(new(*rtypes.ValidationException))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.runtime.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
				BotId: aws.String(botID), BotAliasId: aws.String(tc.alias), LocaleId: aws.String(tc.locale),
				SessionId: aws.String(tc.session), Text: aws.String(tc.text),
			})
			if err == nil || !tc.match(err) {
				t.Fatalf("got %T %v", err, err)
			}
			if got := statusOf(err); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
		})
	}

	// Exactly 1,024 characters (2,048 bytes) is allowed: the limit counts characters.
	if _, err := recognize(ctx, e.runtime, "en_US", "s1", strings.Repeat("é", 1024)); err != nil {
		t.Fatalf("1,024 characters refused: %v", err)
	}
	_, err := e.runtime.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
		BotId: aws.String("NOSUCHBOT1"), BotAliasId: aws.String(aliasID), LocaleId: aws.String("en_US"),
		SessionId: aws.String("s1"), Text: aws.String("hi"),
	})
	var nf *rtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown bot: %v", err)
	}
}

func TestModelErrorsAreTyped(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	_, err := e.models.DescribeBot(ctx, &lexmodelsv2.DescribeBotInput{BotId: aws.String("NOSUCHBOT1")})
	var nf *mtypes.ResourceNotFoundException
	if !errors.As(err, &nf) || statusOf(err) != 404 {
		t.Fatalf("DescribeBot unknown: %v", err)
	}
	_, err = e.models.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String("NOSUCHALIA")})
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeBotAlias unknown: %v", err)
	}
	_, err = e.models.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String("bad/id"), BotAliasId: aws.String(aliasID)})
	var ve *mtypes.ValidationException
	if !errors.As(err, &ve) || statusOf(err) != 400 {
		t.Fatalf("DescribeBotAlias bad id: %v", err)
	}
	_, err = e.models.ListBotAliases(ctx, &lexmodelsv2.ListBotAliasesInput{BotId: aws.String(botID), MaxResults: aws.Int32(5000)})
	if !errors.As(err, &ve) {
		t.Fatalf("ListBotAliases maxResults: %v", err)
	}
}

func TestListBots(t *testing.T) {
	e := newEnv(t, func(o *lexlocal.Options) { o.Brain = lexlocaltest.Brain })
	ctx := context.Background()

	var names []string
	p := lexmodelsv2.NewListBotsPaginator(e.models, &lexmodelsv2.ListBotsInput{MaxResults: aws.Int32(1)})
	for pages := 0; p.HasMorePages(); pages++ {
		if pages > 5 {
			t.Fatal("ListBots pagination does not end")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.BotSummaries {
			names = append(names, aws.ToString(b.BotName))
		}
	}
	if strings.Join(names, ",") != "OrderBot,SupportBot" {
		t.Fatalf("ListBots pages = %v", names)
	}

	out, err := e.models.ListBots(ctx, &lexmodelsv2.ListBotsInput{
		Filters: []mtypes.BotFilter{{Name: mtypes.BotFilterNameBotName, Operator: mtypes.BotFilterOperatorEquals, Values: []string{"OrderBot"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.BotSummaries) != 1 || out.NextToken != nil {
		t.Fatalf("filtered ListBots = %+v", out)
	}
	b := out.BotSummaries[0]
	if aws.ToString(b.BotId) != lexlocaltest.OrderBotID || b.BotStatus != mtypes.BotStatusAvailable || b.BotType != mtypes.BotTypeBot ||
		aws.ToString(b.LatestBotVersion) != "1" || b.LastUpdatedDateTime == nil || aws.ToString(b.Description) != "order status and returns" {
		t.Fatalf("bot summary = %+v", b)
	}

	out, err = e.models.ListBots(ctx, &lexmodelsv2.ListBotsInput{
		SortBy:  &mtypes.BotSortBy{Attribute: mtypes.BotSortAttributeBotName, Order: mtypes.SortOrderDescending},
		Filters: []mtypes.BotFilter{{Name: mtypes.BotFilterNameBotName, Operator: mtypes.BotFilterOperatorContains, Values: []string{"Bot"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.BotSummaries) != 2 || aws.ToString(out.BotSummaries[0].BotName) != "SupportBot" {
		t.Fatalf("descending ListBots = %+v", out.BotSummaries)
	}

	var ve *mtypes.ValidationException
	for name, in := range map[string]*lexmodelsv2.ListBotsInput{
		"maxResults":  {MaxResults: aws.Int32(0)},
		"filter name": {Filters: []mtypes.BotFilter{{Name: "Owner", Operator: mtypes.BotFilterOperatorEquals, Values: []string{"x"}}}},
		"two values":  {Filters: []mtypes.BotFilter{{Name: mtypes.BotFilterNameBotName, Operator: mtypes.BotFilterOperatorEquals, Values: []string{"a", "b"}}}},
		"sort order":  {SortBy: &mtypes.BotSortBy{Attribute: mtypes.BotSortAttributeBotName, Order: "Sideways"}},
		"nextToken":   {NextToken: aws.String("x")},
	} {
		if _, err := e.models.ListBots(ctx, in); !errors.As(err, &ve) || statusOf(err) != 400 {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
}

// DenyModelAPI stands for an IAM user with AmazonLexRunBotsOnly alone: the
// runtime answers, the model API refuses with AccessDeniedException, which
// lexmodelsv2 has no type for and surfaces by its code.
func TestDenyModelAPI(t *testing.T) {
	e := newEnv(t, func(o *lexlocal.Options) { o.DenyModelAPI = true })
	ctx := context.Background()
	_, err := e.models.ListBots(ctx, &lexmodelsv2.ListBotsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" || statusOf(err) != 403 ||
		!strings.Contains(ae.ErrorMessage(), "lex:ListBots") {
		t.Fatalf("ListBots: %v", err)
	}
	_, err = e.models.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String(aliasID)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("DescribeBotAlias: %v", err)
	}
	if _, err := recognize(ctx, e.runtime, "en_US", "s-1", "say hi"); err != nil {
		t.Fatalf("runtime refused: %v", err)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		cfg    clientCfg
		now    func() time.Time
		mutate func([]byte) []byte
		code   string
		msg    string
	}{
		{name: "wrong secret", cfg: clientCfg{testKey, "not-the-secret", region}, code: "InvalidSignatureException", msg: "does not match"},
		{name: "unknown access key", cfg: clientCfg{"AKIDSOMEONEELSE00001", testSecret, region}, code: "UnrecognizedClientException", msg: "security token"},
		{name: "wrong region", cfg: clientCfg{testKey, testSecret, "eu-west-1"}, code: "InvalidSignatureException", msg: "region"},
		{name: "server clock 10 min ahead", cfg: clientCfg{testKey, testSecret, region},
			now: func() time.Time { return time.Now().Add(10 * time.Minute) }, code: "InvalidSignatureException", msg: "Signature expired"},
		{name: "server clock 10 min behind", cfg: clientCfg{testKey, testSecret, region},
			now: func() time.Time { return time.Now().Add(-10 * time.Minute) }, code: "InvalidSignatureException", msg: "not yet current"},
		{name: "body modified after signing", cfg: clientCfg{testKey, testSecret, region},
			mutate: func(b []byte) []byte { return bytes.Replace(b, []byte("hello"), []byte("HELLO"), 1) }, code: "InvalidSignatureException", msg: "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *lexlocal.Options) {
				if tc.now != nil {
					o.Now = tc.now
				}
			})
			e.rec.mutate = tc.mutate
			rt, md := e.clients(tc.cfg)
			_, err := recognize(ctx, rt, "en_US", "s1", "hello")
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code || !strings.Contains(api.ErrorMessage(), tc.msg) {
				t.Fatalf("RecognizeText: got %v, want %s (%q)", err, tc.code, tc.msg)
			}
			if statusOf(err) != http.StatusForbidden {
				t.Fatalf("status %d, want 403", statusOf(err))
			}
			if tc.mutate != nil {
				return
			}
			_, err = md.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(botID), BotAliasId: aws.String(aliasID)})
			if !errors.As(err, &api) || api.ErrorCode() != tc.code || statusOf(err) != http.StatusForbidden {
				t.Fatalf("DescribeBotAlias: got %v, want %s", err, tc.code)
			}
		})
	}
}

// The server's Date header comes from the clock that judged the skew, so the
// SDK's standard clock-skew correction recovers on its retry, as against AWS.
func TestClockSkewSelfCorrects(t *testing.T) {
	e := newEnv(t, func(o *lexlocal.Options) { o.Now = func() time.Time { return time.Now().Add(time.Hour) } })
	rt := lexruntimev2.New(lexruntimev2.Options{
		Region: region, Credentials: credentials.NewStaticCredentialsProvider(testKey, testSecret, ""),
		BaseEndpoint: aws.String(e.url), HTTPClient: &http.Client{Transport: e.rec}, RetryMaxAttempts: 3,
	})
	if _, err := recognize(context.Background(), rt, "en_US", "s1", "hello"); err != nil {
		t.Fatalf("SDK did not recover from skew: %v", err)
	}
}

func unsigned(t *testing.T, url, method, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRawWireErrors(t *testing.T) {
	e := newEnv(t, nil)
	path := "/bots/" + botID + "/botAliases/" + aliasID + "/botLocales/en_US/sessions/s1/text"

	resp := unsigned(t, e.url+path, http.MethodPost, `{"text":"hi"}`)
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 || !strings.HasPrefix(resp.Header.Get("X-Amzn-ErrorType"), "MissingAuthenticationTokenException:") ||
		body.Type != "MissingAuthenticationTokenException" || body.Message == "" || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Fatalf("unsigned request: %d %v %+v", resp.StatusCode, resp.Header, body)
	}

	// In-process, because over a socket the server's lingering close after an
	// unread body costs half a second.
	srv, err := lexlocal.New(lexlocal.Options{AccessKeyID: testKey, SecretAccessKey: testSecret, Brain: echoBrain{}})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(strings.Repeat("x", 300<<10))))
	if w.Code != 400 || !strings.HasPrefix(w.Header().Get("X-Amzn-ErrorType"), "ValidationException:") {
		t.Fatalf("oversized body: %d %v", w.Code, w.Header())
	}

	// Auth precedes routing, so only a signed request learns a path is unknown.
	if code, typ := signedGet(t, e.url+"/bots/"+botID+"/nowhere", "lex"); code != 404 || typ != "UnknownOperationException" {
		t.Fatalf("unknown operation: %d %s", code, typ)
	}
	// A valid signature for another service is still refused.
	if code, typ := signedGet(t, e.url+"/bots/"+botID, "execute-api"); code != 403 || typ != "InvalidSignatureException" {
		t.Fatalf("wrong service scope: %d %s", code, typ)
	}
	if code, typ := signedGet(t, e.url+"/bots/"+botID+"/", "lex"); code != 200 || typ != "" {
		t.Fatalf("documented trailing-slash path: %d %s", code, typ)
	}
}

func signedGet(t *testing.T, url, service string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	empty := sha256.Sum256(nil)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret},
		req, hex.EncodeToString(empty[:]), service, region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	typ, _, _ := strings.Cut(resp.Header.Get("X-Amzn-ErrorType"), ":")
	return resp.StatusCode, typ
}

func TestNewRequiresKeysAndBrain(t *testing.T) {
	for _, o := range []lexlocal.Options{
		{SecretAccessKey: "s", Brain: echoBrain{}},
		{AccessKeyID: "k", Brain: echoBrain{}},
		{AccessKeyID: "k", SecretAccessKey: "s"},
	} {
		if _, err := lexlocal.New(o); err == nil {
			t.Errorf("New(%+v) should fail", o)
		}
	}
}
