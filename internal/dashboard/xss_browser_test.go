package dashboard_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/internal/browsertest"
)

// TestBrowserXSSVectorsNeverExecute puts the shared XSS vector list
// everywhere a contact or a bot can write: the contact's name and chat
// context, the contact's messages, and the fields of rich messages. The
// inbox lists them, and each conversation is opened with its contact
// panel: no vector may run or leave script-carrying markup behind.
func TestBrowserXSSVectorsNeverExecute(t *testing.T) {
	n := startNode(t)
	vectors := browsertest.XSSVectors()
	var list struct {
		Agents []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"agents"`
	}
	n.api("GET", "/api/v1/agents", nil, 200, &list)
	agentID := ""
	for _, a := range list.Agents {
		if a.Email == adminEmail {
			agentID = a.ID
		}
	}
	if agentID == "" {
		t.Fatalf("no admin among %+v", list.Agents)
	}

	stored := 0
	var convs []string
	for i, v := range vectors {
		var conv struct {
			ID string `json:"id"`
		}
		contact := map[string]any{"userId": fmt.Sprintf("xss-%d", i), "name": v, "chatContext": map[string]string{"plan": v, v: "key"}}
		if s, data := n.send("POST", "/api/v1/conversations", map[string]any{"contact": contact, "skipRouting": true}); s != 201 {
			// A name the API refuses: keep the vector in the context only.
			contact["name"] = fmt.Sprintf("Visitor %d", i)
			n.api("POST", "/api/v1/conversations", map[string]any{"contact": contact, "skipRouting": true}, 201, &conv)
		} else {
			stored++
			if err := json.Unmarshal(data, &conv); err != nil {
				t.Fatal(err)
			}
		}
		convs = append(convs, conv.ID)
		post := func(msg map[string]any) {
			if s, _ := n.send("POST", "/api/v1/conversations/"+conv.ID+"/messages", msg); s == 201 {
				stored++
			}
		}
		post(map[string]any{"text": v, "sender": map[string]string{"type": "contact"}})
		agent := map[string]string{"type": "agent", "id": agentID}
		post(map[string]any{"text": v, "contentType": 3, "sender": agent})
		q, _ := json.Marshal([]map[string]string{{"title": v, "message": v}})
		card, _ := json.Marshal([]map[string]any{{"title": v, "subtitle": v, "description": v, "header": map[string]string{"imgSrc": "https://example.com/x.png", "overlayText": v},
			"buttons": []map[string]any{{"name": v, "action": map[string]any{"type": "quickReply", "payload": map[string]string{"message": v}}}}}})
		list, _ := json.Marshal(map[string]any{"headerText": v, "elements": []map[string]any{{"title": v, "description": v}}, "buttons": []map[string]any{{"name": v}}})
		for tid, payload := range map[string][]byte{"6": q, "10": card, "7": list} {
			post(map[string]any{"text": v, "sender": agent, "metadata": map[string]string{"templateId": tid, "payload": string(payload)}})
		}
	}
	if stored < len(vectors)*3 {
		t.Fatalf("only %d of the vectors were stored: the test would prove little", stored)
	}

	b := browsertest.Start(t, browsertest.WindowSize(1280, 900))
	signIn(b, n.url, adminEmail, adminPassword)
	b.Navigate(n.url + "/#/inbox/all")
	b.Wait("the inbox with the conversations", `document.querySelectorAll("li.item").length >= 20`, 0)
	b.ProvokeXSS("document")
	for _, id := range convs {
		b.Eval0(`location.hash = "#/c/` + id + `"`)
		b.Wait("the conversation and its contact panel", `document.querySelector("#contact-panel") && location.hash.endsWith("`+id+`") && document.querySelectorAll(".msg, [data-seq]").length >= 1`, 0)
		b.ProvokeXSS("document")
		if bad := b.XSSEffects("document"); len(bad) > 0 {
			b.Screenshot("xss")
			t.Fatalf("conversation %s: a vector took effect: %v", id, bad)
		}
	}
	time.Sleep(time.Second) // a delayed handler (img onerror after a failed load) gets its chance
	b.Screenshot("xss-dashboard")
	if bad := b.XSSEffects("document"); len(bad) > 0 {
		t.Fatalf("a vector took effect: %v", bad)
	}
	// The page's Content Security Policy reports what it blocked (inline
	// handlers and styles the sanitiser's parser met) and images of
	// sanitised markup fail to load; anything else, such as an exception
	// from rendering a hostile value, is a fault.
	for _, e := range b.ConsoleErrors() {
		if !strings.Contains(e, "Failed to load resource") && !strings.Contains(e, "Content Security Policy directive") {
			t.Errorf("browser console error: %s", e)
		}
	}
}
