package lexlocal

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

type listBotsRequest struct {
	Filters    []botFilter `json:"filters"`
	MaxResults *int        `json:"maxResults"`
	NextToken  string      `json:"nextToken"`
	SortBy     *botSortBy  `json:"sortBy"`
}

type botFilter struct {
	Name     string   `json:"name"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

type botSortBy struct {
	Attribute string `json:"attribute"`
	Order     string `json:"order"`
}

type listBotsResponse struct {
	BotSummaries []botSummary `json:"botSummaries"`
	NextToken    string       `json:"nextToken,omitempty"`
}

type botSummary struct {
	BotID               string       `json:"botId"`
	BotName             string       `json:"botName"`
	Description         string       `json:"description,omitempty"`
	BotStatus           string       `json:"botStatus"`
	LatestBotVersion    string       `json:"latestBotVersion,omitempty"`
	LastUpdatedDateTime epochSeconds `json:"lastUpdatedDateTime"`
	BotType             string       `json:"botType"`
}

// decodeListBots checks a ListBots body against the API reference's
// constraints: at most two filters, each naming BotName or BotType with an
// EQ, NE or CO operator and exactly one value.
func decodeListBots(body []byte) (listBotsRequest, *Error) {
	var req listBotsRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return req, errorf(ErrValidation, "Request body is not valid JSON for ListBots: %s", jsonProblem(err))
		}
	}
	if req.MaxResults != nil && (*req.MaxResults < 1 || *req.MaxResults > 1000) {
		return req, validationError("maxResults", strconv.Itoa(*req.MaxResults), "Member must have value less than or equal to 1000 and greater than or equal to 1")
	}
	if req.Filters != nil && (len(req.Filters) < 1 || len(req.Filters) > 2) {
		return req, validationError("filters", strconv.Itoa(len(req.Filters))+" items", "Member must have length less than or equal to 2 and greater than or equal to 1")
	}
	for _, f := range req.Filters {
		if f.Name != "BotName" && f.Name != "BotType" {
			return req, validationError("filters.member.name", f.Name, "Member must satisfy enum value set: [BotName, BotType]")
		}
		if f.Operator != "EQ" && f.Operator != "NE" && f.Operator != "CO" {
			return req, validationError("filters.member.operator", f.Operator, "Member must satisfy enum value set: [CO, EQ, NE]")
		}
		if len(f.Values) != 1 {
			return req, validationError("filters.member.values", strconv.Itoa(len(f.Values))+" items", "Member must have length less than or equal to 1 and greater than or equal to 1")
		}
	}
	if s := req.SortBy; s != nil {
		if s.Attribute != "BotName" {
			return req, validationError("sortBy.attribute", s.Attribute, "Member must satisfy enum value set: [BotName]")
		}
		if s.Order != "Ascending" && s.Order != "Descending" {
			return req, validationError("sortBy.order", s.Order, "Member must satisfy enum value set: [Ascending, Descending]")
		}
	}
	return req, nil
}

func (f botFilter) keep(b BotInfo) bool {
	field := b.Name
	if f.Name == "BotType" {
		field = "Bot" // local bots are never bot networks
	}
	switch f.Operator {
	case "EQ":
		return field == f.Values[0]
	case "NE":
		return field != f.Values[0]
	}
	return strings.Contains(field, f.Values[0])
}

func (s *Server) listBots(body []byte) (any, error) {
	req, e := decodeListBots(body)
	if e != nil {
		return nil, e
	}
	limit := 10
	if req.MaxResults != nil {
		limit = *req.MaxResults
	}
	start := 0
	if req.NextToken != "" {
		n, err := strconv.Atoi(req.NextToken)
		if err != nil || n < 0 {
			return nil, errorf(ErrValidation, "The nextToken is not valid.")
		}
		start = n
	}
	var bots []BotInfo
	for _, b := range s.opts.Brain.Bots() {
		keep := true
		for _, f := range req.Filters {
			keep = keep && f.keep(b)
		}
		if keep {
			bots = append(bots, b)
		}
	}
	if req.SortBy != nil && req.SortBy.Order == "Descending" {
		for i, j := 0, len(bots)-1; i < j; i, j = i+1, j-1 {
			bots[i], bots[j] = bots[j], bots[i]
		}
	}
	resp := listBotsResponse{BotSummaries: []botSummary{}}
	for i := start; i < len(bots) && i < start+limit; i++ {
		b := bots[i]
		resp.BotSummaries = append(resp.BotSummaries, botSummary{
			BotID: b.ID, BotName: b.Name, Description: b.Description, BotStatus: "Available",
			LatestBotVersion: latestVersion(b), LastUpdatedDateTime: epochSeconds(b.Updated), BotType: "Bot",
		})
	}
	if start+limit < len(bots) {
		resp.NextToken = strconv.Itoa(start + limit)
	}
	return resp, nil
}

// latestVersion is the highest numbered version an alias points at; a bot
// whose aliases all use DRAFT has never been versioned, and Lex then leaves
// latestBotVersion out.
func latestVersion(b BotInfo) string {
	best := 0
	for _, a := range b.Aliases {
		if n, err := strconv.Atoi(a.BotVersion); err == nil && n > best {
			best = n
		}
	}
	if best == 0 {
		return ""
	}
	return strconv.Itoa(best)
}
