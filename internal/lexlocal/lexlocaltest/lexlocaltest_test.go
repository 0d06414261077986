package lexlocaltest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lexmodelsv2"
	"github.com/aws/aws-sdk-go-v2/service/lexruntimev2"
	"github.com/aws/smithy-go"

	"github.com/switchboard-chat/switchboard/internal/lexlocal/lexlocaltest"
)

func clients(s lexlocaltest.Server, key, secret string) (*lexruntimev2.Client, *lexmodelsv2.Client) {
	creds := credentials.NewStaticCredentialsProvider(key, secret, "")
	return lexruntimev2.New(lexruntimev2.Options{Region: s.Region, Credentials: creds, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1}),
		lexmodelsv2.New(lexmodelsv2.Options{Region: s.Region, Credentials: creds, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1})
}

func TestStartServesBothKeyPairs(t *testing.T) {
	s := lexlocaltest.Start(t, lexlocaltest.Brain)
	ctx := context.Background()

	rt, md := clients(s, s.AccessKeyID, s.SecretAccessKey)
	alias, err := md.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(lexlocaltest.OrderBotID), BotAliasId: aws.String(lexlocaltest.ProdAliasID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(alias.BotAliasName) != lexlocaltest.ProdAliasName || len(alias.BotAliasLocaleSettings) != 2 {
		t.Fatalf("alias = %+v", alias)
	}
	out, err := rt.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(lexlocaltest.SupportBotID), BotAliasId: aws.String(lexlocaltest.LiveAliasID),
		LocaleId: aws.String("en_GB"), SessionId: aws.String("s-1"), Text: aws.String("hello"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Content) != "hello" {
		t.Fatalf("messages = %+v", out.Messages)
	}

	// The restricted pair may run the bot but not read its definition.
	rt, md = clients(s, s.RestrictedAccessKeyID, s.RestrictedSecretAccessKey)
	_, err = md.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(lexlocaltest.OrderBotID), BotAliasId: aws.String(lexlocaltest.TestAliasID)})
	// lexmodelsv2 has no typed AccessDeniedException; it arrives by code.
	var denied smithy.APIError
	if !errors.As(err, &denied) || denied.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("restricted keys on the model API: %v, want AccessDeniedException", err)
	}
	if _, err := rt.RecognizeText(ctx, &lexruntimev2.RecognizeTextInput{
		BotId: aws.String(lexlocaltest.OrderBotID), BotAliasId: aws.String(lexlocaltest.TestAliasID),
		LocaleId: aws.String("en_US"), SessionId: aws.String("s-2"), Text: aws.String("hi"),
	}); err != nil {
		t.Fatalf("restricted keys on the runtime API: %v", err)
	}

	// A key pair the server never issued is refused outright.
	_, md = clients(s, "AKIAUNKNOWN000000000", s.SecretAccessKey)
	if _, err := md.DescribeBotAlias(ctx, &lexmodelsv2.DescribeBotAliasInput{BotId: aws.String(lexlocaltest.OrderBotID), BotAliasId: aws.String(lexlocaltest.TestAliasID)}); err == nil {
		t.Fatal("unknown key accepted")
	}
}
