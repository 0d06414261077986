// Package richmsg parses and validates Kommunicate's rich-message envelope
// and its templates (SPEC §5), so that the Lex connector, the webhook bot and
// the REST API all accept, refuse and degrade rich messages the same way.
//
// The field names are Kommunicate's, because bot builders already produce
// them (Dialogflow custom payloads, Lex custom payloads, custom-bot
// webhooks). Every payload is decoded into typed structs, checked, and
// re-encoded in one canonical shape per template, so renderers (widget,
// dashboard preview) never see variants or unknown fields.
//
// Text fields are plain text. They are kept as given (bounded in length,
// control characters refused) and never interpreted as HTML here; a renderer
// must insert them as text, never as markup. URL fields are the only place
// where a bot's data turns into navigation, so every URL passes SafeURL:
// https anywhere, http only on localhost, nothing else.
//
// Bots' replies go through Normalize, which never fails: an invalid rich
// message becomes a text message plus a warning for the bot's owner. Each
// connector reads its own wire format (the webhook bot's reply array, Lex's
// messages) into bot.Reply values; Normalize is then applied to all of them
// alike.
package richmsg
