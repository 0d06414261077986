package kmcompat

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/switchboard-chat/switchboard/internal/chat"
	"github.com/switchboard-chat/switchboard/internal/service"
)

// maxUserIDs bounds one user-details request.
const maxUserIDs = 100

// userView is a contact as Kommunicate shows a user.
type userView struct {
	UserID        string        `json:"userId"`
	UserName      string        `json:"userName"`
	DisplayName   string        `json:"displayName"`
	Email         string        `json:"email"`
	Language      string        `json:"language"`
	ContactID     string        `json:"contactId"`
	Connected     bool          `json:"connected"`
	CreatedAtTime int64         `json:"createdAtTime"`
	Metadata      chat.Metadata `json:"metadata"`
}

func newUserView(c *chat.Contact) userView {
	meta := chat.Metadata{}
	if len(c.ChatContext) > 0 {
		meta[metaChatContext] = string(c.ChatContext)
	}
	if c.Language != "" {
		meta[metaUserLanguage] = c.Language
	}
	userID := c.UserID
	if userID == "" {
		// Anonymous visitors have no userId; their contact id is what
		// Of-User-Id accepts for them.
		userID = c.ID
	}
	return userView{
		UserID:        userID,
		UserName:      c.Name,
		DisplayName:   c.Name,
		Email:         c.Email,
		Language:      c.Language,
		ContactID:     c.ID,
		CreatedAtTime: millis(c.CreatedAt),
		Metadata:      meta,
	}
}

type userDetailRequest struct {
	UserIDList []string `json:"userIdList"`
}

func (h *handler) userDetails(w http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	var req userDetailRequest
	if err := decode(w, r, &req); err != nil {
		return nil, err
	}
	if len(req.UserIDList) == 0 || len(req.UserIDList) > maxUserIDs {
		return nil, chat.FieldError("userIdList", "userIdList must hold 1 to %d user ids", maxUserIDs)
	}
	out := make([]userView, 0, len(req.UserIDList))
	seen := map[string]bool{}
	for _, id := range req.UserIDList {
		id = strings.TrimSpace(id)
		if seen[id] {
			continue
		}
		seen[id] = true
		// An id Switchboard could never have stored (an email, say) is
		// simply not a known user, which is what Kommunicate answers too.
		c, err := h.svc.ContactByUserID(ctx, actor, id)
		if chat.IsCode(err, chat.CodeNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, newUserView(c))
	}
	return out, nil
}

type updateUserRequest struct {
	DisplayName *string       `json:"displayName"`
	Email       *string       `json:"email"`
	Metadata    chat.Metadata `json:"metadata"`
}

func (h *handler) updateUser(w http.ResponseWriter, r *http.Request, actor service.Actor) (any, error) {
	ctx := r.Context()
	var req updateUserRequest
	if err := decode(w, r, &req); err != nil {
		return nil, err
	}
	patch, err := contactPatch(req)
	if err != nil {
		return nil, err
	}
	userID := strings.TrimSpace(r.Header.Get("Of-User-Id"))
	if userID == "" {
		return nil, chat.FieldError("Of-User-Id", "the Of-User-Id header must name the user to update")
	}
	c, err := h.svc.ContactByUserID(ctx, actor, userID)
	if err != nil {
		return nil, err
	}
	if _, err := h.svc.UpdateContact(ctx, actor, c.ID, patch); err != nil {
		return nil, err
	}
	return "success", nil
}

// contactPatch translates an update-user body. Kommunicate keeps free-form
// user attributes in metadata; Switchboard's one free-form place about a
// contact is the chat context, which is also what bots read, so they go
// there.
func contactPatch(req updateUserRequest) (service.ContactPatch, error) {
	p := service.ContactPatch{Name: req.DisplayName, Email: req.Email}
	if err := req.Metadata.Validate("metadata"); err != nil {
		return p, err
	}
	merged := map[string]json.RawMessage{}
	for k, v := range req.Metadata {
		switch k {
		case metaUserLanguage:
			lang := strings.TrimSpace(v)
			p.Language = &lang
		case metaChatContext:
			if strings.TrimSpace(v) == "" {
				continue
			}
			raw, err := chatContextObject("metadata."+metaChatContext, v)
			if err != nil {
				return p, err
			}
			var obj map[string]json.RawMessage
			_ = json.Unmarshal(raw, &obj) // checked by chatContextObject
			for ck, cv := range obj {
				merged[ck] = cv
			}
		default:
			b, err := json.Marshal(v)
			if err != nil {
				return p, chat.FieldError("metadata", "metadata value of %q cannot be stored", k)
			}
			if _, taken := merged[k]; !taken {
				merged[k] = b
			}
		}
	}
	if len(merged) > 0 {
		b, err := json.Marshal(merged)
		if err != nil {
			return p, chat.FieldError("metadata", "metadata cannot be stored as chat context")
		}
		p.ChatContext = b
	}
	return p, nil
}
