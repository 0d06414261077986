package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelsv2"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	rtypes "github.com/aws/aws-sdk-go-v2/service/lexruntimev2/types"
	"github.com/aws/smithy-go"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/lexlocal/demobot"
	"github.com/switchboard-chat/switchboard/internal/richmsg"
)

const (
	testKeyID  = "AKIALEXLOCALTEST01"
	testSecret = "lex-local/test+secret"
	testRegion = "eu-west-1"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseLexLocal(t *testing.T) {
	keys := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want lexLocalConfig
		err  string // substring of the error; "" for success
	}{
		{name: "defaults from the environment", env: keys,
			want: lexLocalConfig{Addr: "127.0.0.1:4010", Region: "us-east-1", AccessKeyID: "AKIAENV", SecretAccessKey: "envsecret"}},
		{name: "flags win, bots repeat and follow", args: []string{"--addr", ":0", "--bots", "a.zip", "b", "--region", "sa-east-1", "c.json", "--bots=d",
			"--access-key-id", "AKIAFLAG", "--secret-access-key", "flagsecret", "--no-demo"}, env: keys,
			want: lexLocalConfig{Addr: ":0", Bots: []string{"a.zip", "b", "c.json", "d"}, NoDemo: true, Region: "sa-east-1", AccessKeyID: "AKIAFLAG", SecretAccessKey: "flagsecret"}},
		{name: "region from AWS_REGION", env: map[string]string{"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "ap-south-1"},
			want: lexLocalConfig{Addr: "127.0.0.1:4010", Region: "ap-south-1", AccessKeyID: "k", SecretAccessKey: "s"}},
		{name: "no keys", err: "AWS_ACCESS_KEY_ID or --access-key-id) and a secret access key (AWS_SECRET_ACCESS_KEY"},
		{name: "no secret", args: []string{"--access-key-id", "k"}, err: "set a secret access key (AWS_SECRET_ACCESS_KEY or --secret-access-key)"},
		{name: "nothing to serve", args: []string{"--no-demo"}, env: keys, err: "no bots to serve"},
		{name: "unknown flag", args: []string{"--port", "1"}, env: keys, err: "flag provided but not defined: -port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseLexLocal(tc.args, env(tc.env), io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("config = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLexLocalSubcommandIsWired(t *testing.T) {
	err := run([]string{"lex-local", "--no-demo"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("run(lex-local) without keys = %v", err)
	}
	var out strings.Builder
	if err := run([]string{"help"}, env(nil), &out, io.Discard); err != nil || !strings.Contains(out.String(), "lex-local") {
		t.Fatalf("help = %q, %v", out.String(), err)
	}
}

func TestLexLocalRefusesBadBots(t *testing.T) {
	dir := t.TempDir()
	cfg := lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	for _, tc := range []struct {
		bots []string
		want string
	}{
		{[]string{dir + "/missing.zip"}, dir + "/missing.zip"},
		{[]string{dir}, "Manifest.json"},
		// The demo bot's directory is a valid export, served a second time
		// beside the embedded copy: one id, twice.
		{[]string{"../../internal/lexlocal/demobot/bot"}, "same id " + demobot.ID},
	} {
		cfg.Bots = tc.bots
		err := runLexLocal(context.Background(), cfg, slog.New(slog.DiscardHandler), func(string) { t.Error("started serving") })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bots %q: error = %v, want one naming %q", tc.bots, err, tc.want)
		}
	}
}

// startLexLocal runs the subcommand's server on a free loopback port until
// the test ends, and returns its URL.
func startLexLocal(t testing.TB, cfg lexLocalConfig) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runLexLocal(ctx, cfg, slog.New(slog.DiscardHandler), func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("lex-local did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("lex-local did not start within 10 s")
	}
	return ""
}

func lexClients(url string) (*lexruntimev2.Client, *lexmodelsv2.Client) {
	creds := credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")
	return lexruntimev2.New(lexruntimev2.Options{Region: testRegion, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}),
		lexmodelsv2.New(lexmodelsv2.Options{Region: testRegion, Credentials: creds, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1})
}

func recognizeText(ctx context.Context, c *lexruntimev2.Client, locale, session, text string) (*lexruntimev2.RecognizeTextOutput, error) {
	return c.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(demobot.ID), BotAliasId: aws.String("TSTALIASID"), LocaleId: aws.String(locale),
		SessionId: aws.String(session), Text: aws.String(text),
	})
}

// envelopes parses the custom payloads of a turn as the Lex connector does.
func envelopes(t *testing.T, msgs []rtypes.Message) []richmsg.Envelope {
	t.Helper()
	var out []richmsg.Envelope
	for _, m := range msgs {
		if m.ContentType != rtypes.MessageContentTypeCustomPayload {
			continue
		}
		e, err := richmsg.ParseEnvelope([]byte(aws.ToString(m.Content)))
		if err != nil {
			t.Fatalf("custom payload %q: %v", aws.ToString(m.Content), err)
		}
		out = append(out, e)
	}
	return out
}

func TestLexLocalServesTheDemoBot(t *testing.T) {
	url := startLexLocal(t, lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	rt, md := lexClients(url)
	ctx := context.Background()

	alias, err := md.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(demobot.ID), BotAliasId: aws.String("TSTALIASID")})
	if err != nil {
		t.Fatal(err)
	}
	var locales []string
	for id, s := range alias.BotAliasLocaleSettings {
		if s.Enabled {
			locales = append(locales, id)
		}
	}
	slices.Sort(locales)
	if !slices.Equal(locales, []string{"en_US", "es_419"}) || aws.ToString(alias.BotId) != demobot.ID {
		t.Fatalf("alias of %s enables %v", aws.ToString(alias.BotId), locales)
	}

	for _, tc := range []struct{ locale, greeting string }{{"en_US", "Switchboard demo bot"}, {"es_419", "bot de demostración"}} {
		out, err := recognizeText(ctx, rt, tc.locale, "welcome-"+tc.locale, "kmConversationStarted")
		if err != nil {
			t.Fatal(err)
		}
		envs := envelopes(t, out.Messages)
		if len(envs) != 1 || !strings.Contains(envs[0].Message, tc.greeting) || envs[0].Metadata[chat.MetaTemplateID] != richmsg.TemplateQuickReplies {
			t.Fatalf("%s welcome = %+v", tc.locale, envs)
		}
		var replies []richmsg.QuickReply
		if err := json.Unmarshal([]byte(envs[0].Metadata[chat.MetaPayload]), &replies); err != nil || len(replies) < 3 {
			t.Fatalf("%s quick replies %q: %v", tc.locale, envs[0].Metadata[chat.MetaPayload], err)
		}
		if st := out.SessionState; aws.ToString(st.Intent.Name) != "Welcome" || st.DialogAction.Type != rtypes.DialogActionTypeClose {
			t.Fatalf("%s welcome state: intent %s, action %s", tc.locale, aws.ToString(st.Intent.Name), st.DialogAction.Type)
		}
	}

	// A quick reply of the welcome leads where it says.
	out, err := recognizeText(ctx, rt, "en_US", "handoff-1", "Talk to a human")
	if err != nil {
		t.Fatal(err)
	}
	envs := envelopes(t, out.Messages)
	if len(envs) != 1 {
		t.Fatalf("talk to a human: %d custom payloads", len(envs))
	}
	if v, ok := envs[0].Metadata[chat.MetaAssignTo]; !ok || v != "" {
		t.Fatalf("talk to a human: KM_ASSIGN_TO = %q (present %v)", v, ok)
	}

	// The carousel and the card come out as the connector expects them.
	out, err = recognizeText(ctx, rt, "en_US", "products-1", "do you have headphones?")
	if err != nil {
		t.Fatal(err)
	}
	envs = envelopes(t, out.Messages)
	if len(envs) != 1 || envs[0].Metadata[chat.MetaTemplateID] != richmsg.TemplateCards || out.SessionState.DialogAction.Type != rtypes.DialogActionTypeClose {
		t.Fatalf("products: %+v, action %s", envs, out.SessionState.DialogAction.Type)
	}
	if p := out.SessionState.Intent.Slots["Product"].Value; p == nil || aws.ToString(p.InterpretedValue) != "headphones" {
		t.Fatalf("products: Product slot %+v", p)
	}
	out, err = recognizeText(ctx, rt, "es_419", "hours-1", "¿a qué hora abren?")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Messages); n != 2 || out.Messages[1].ContentType != rtypes.MessageContentTypeImageResponseCard ||
		len(out.Messages[1].ImageResponseCard.Buttons) != 4 {
		t.Fatalf("opening hours: %+v", out.Messages)
	}

	// Order status asks for the number, then names it.
	out, err = recognizeText(ctx, rt, "en_US", "order-1", "where is my order")
	if err != nil {
		t.Fatal(err)
	}
	if out.SessionState.DialogAction.Type != rtypes.DialogActionTypeElicitSlot || aws.ToString(out.SessionState.DialogAction.SlotToElicit) != "OrderNumber" {
		t.Fatalf("where is my order: action %+v", out.SessionState.DialogAction)
	}
	out, err = recognizeText(ctx, rt, "en_US", "order-1", "it's B4X9Q2")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) == 0 || !strings.Contains(aws.ToString(out.Messages[0].Content), "B4X9Q2") ||
		out.SessionState.Intent.State != rtypes.IntentStateFulfilled {
		t.Fatalf("order number reply: %+v, state %s", out.Messages, out.SessionState.Intent.State)
	}

	// Two misses in a row give up, which is what hands the user to a person.
	for i, want := range []rtypes.IntentState{rtypes.IntentStateReadyForFulfillment, rtypes.IntentStateFailed} {
		out, err = recognizeText(ctx, rt, "en_US", "miss-1", "purple monkey dishwasher")
		if err != nil {
			t.Fatal(err)
		}
		if st := out.SessionState; aws.ToString(st.Intent.Name) != "FallbackIntent" || st.Intent.State != want {
			t.Fatalf("miss %d: intent %s state %s, want FallbackIntent %s", i+1, aws.ToString(st.Intent.Name), st.Intent.State, want)
		}
	}

	// The key pair is enforced.
	other := lexruntimev2.New(lexruntimev2.Options{Region: testRegion, BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, "wrong", "")})
	_, err = recognizeText(ctx, other, "en_US", "s-2", "hi")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
}

func TestLexLocalShutsDownGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	cfg := lexLocalConfig{Addr: "127.0.0.1:0", Region: testRegion, AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	go func() { done <- runLexLocal(ctx, cfg, slog.New(slog.DiscardHandler), func(a string) { addr <- a }) }()
	url := "http://" + <-addr
	rt, _ := lexClients(url)
	if _, err := recognizeText(context.Background(), rt, "en_US", "s-1", "hello"); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not shut down")
	}
	if _, err := http.Get(url); err == nil {
		t.Fatal("still accepting connections after shutdown")
	}
}
