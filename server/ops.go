package server

import (
	"fmt"
	"strconv"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/journal"
	"github.com/quilldb/quill/merkle"
	"github.com/quilldb/quill/server/internal/wire"
)

func required[T any](p *T, name string) (T, error) {
	var zero T
	if p == nil {
		return zero, &quill.Error{Code: quill.CodeInvalidParameter, Parameter: name, Message: "is required"}
	}
	return *p, nil
}

func (h *Handler) createLedger(req *request) error {
	var in wire.CreateLedgerRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	name, err := required(in.Name, "Name")
	if err != nil {
		return err
	}
	mode, err := required(in.PermissionsMode, "PermissionsMode")
	if err != nil {
		return err
	}
	kms := ""
	if in.KmsKey != nil {
		kms = *in.KmsKey
	}
	d, err := h.db.CreateLedger(req.ctx, &quill.CreateLedgerInput{Name: name, PermissionsMode: mode,
		DeletionProtection: in.DeletionProtection, KmsKey: kms, Tags: tagValues(in.Tags)})
	if err != nil {
		return err
	}
	return req.reply(wire.CreateLedgerResponse{Name: d.Name, Arn: d.ARN, State: d.State,
		CreationDateTime: wire.NewTimestamp(d.CreationDateTime), PermissionsMode: d.PermissionsMode,
		DeletionProtection: d.DeletionProtection, KmsKeyArn: d.KmsKeyARN})
}

// tagValues turns the wire's map of optional strings into tags; a null
// value is an empty one.
func tagValues(in map[string]*string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

func describe(d *quill.LedgerDescription, withMode bool) wire.DescribeLedgerResponse {
	out := wire.DescribeLedgerResponse{Name: d.Name, Arn: d.ARN, State: d.State,
		CreationDateTime: wire.NewTimestamp(d.CreationDateTime), DeletionProtection: d.DeletionProtection,
		EncryptionDescription: &wire.EncryptionDescription{KmsKeyArn: d.KmsKeyARN, EncryptionStatus: d.EncryptionStatus}}
	if withMode {
		out.PermissionsMode = d.PermissionsMode
	}
	return out
}

func (h *Handler) describeLedger(req *request) error {
	d, err := h.db.DescribeLedger(req.ctx, req.parts[1])
	if err != nil {
		return err
	}
	return req.reply(describe(d, true))
}

// pageParams reads the max_results and next_token query parameters.
func pageParams(req *request) (max int, token string, err error) {
	q := req.r.URL.Query()
	if s := q.Get("max_results"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return 0, "", &quill.Error{Code: quill.CodeInvalidParameter, Parameter: "MaxResults",
				Message: fmt.Sprintf("must be an integer from 1 to 100, got %q", s)}
		}
		max = n
	}
	return max, q.Get("next_token"), nil
}

func (h *Handler) listLedgers(req *request) error {
	max, token, err := pageParams(req)
	if err != nil {
		return err
	}
	page, next, err := h.db.ListLedgers(req.ctx, max, token)
	if err != nil {
		return err
	}
	out := wire.ListLedgersResponse{Ledgers: []wire.LedgerSummary{}, NextToken: next}
	for _, s := range page {
		out.Ledgers = append(out.Ledgers, wire.LedgerSummary{Name: s.Name, State: s.State,
			CreationDateTime: wire.NewTimestamp(s.CreationDateTime)})
	}
	return req.reply(out)
}

func (h *Handler) updateLedger(req *request) error {
	var in wire.UpdateLedgerRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	d, err := h.db.UpdateLedger(req.ctx, req.parts[1], &quill.UpdateLedgerInput{DeletionProtection: in.DeletionProtection, KmsKey: in.KmsKey})
	if err != nil {
		return err
	}
	return req.reply(describe(d, false))
}

func (h *Handler) updatePermissionsMode(req *request) error {
	var in wire.UpdateLedgerPermissionsModeRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	mode, err := required(in.PermissionsMode, "PermissionsMode")
	if err != nil {
		return err
	}
	d, err := h.db.UpdateLedgerPermissionsMode(req.ctx, req.parts[1], mode)
	if err != nil {
		return err
	}
	return req.reply(wire.UpdateLedgerPermissionsModeResponse{Name: d.Name, Arn: d.ARN, PermissionsMode: d.PermissionsMode})
}

func (h *Handler) deleteLedger(req *request) error {
	if err := h.db.DeleteLedger(req.ctx, req.parts[1]); err != nil {
		return err
	}
	return req.reply(struct{}{})
}

func (h *Handler) ledger(req *request) (*quill.Ledger, error) {
	return h.db.Ledger(req.ctx, req.parts[1])
}

func (h *Handler) getDigest(req *request) error {
	var in struct{}
	if err := req.decode(&in); err != nil {
		return err
	}
	l, err := h.ledger(req)
	if err != nil {
		return err
	}
	d, err := l.GetDigest(req.ctx)
	if err != nil {
		return err
	}
	tip := d.Tip.String()
	return req.reply(wire.GetDigestResponse{Digest: d.Digest[:], DigestTipAddress: wire.ValueHolder{IonText: &tip}})
}

// ionText returns a ValueHolder's text, or an error naming the member.
func ionText(v *wire.ValueHolder, name string, isRequired bool) (string, error) {
	if v == nil || v.IonText == nil {
		if isRequired {
			return "", &quill.Error{Code: quill.CodeInvalidParameter, Parameter: name, Message: "is required (a ValueHolder with IonText)"}
		}
		return "", nil
	}
	if len(*v.IonText) < 1 || len(*v.IonText) > 1<<20 {
		return "", &quill.Error{Code: quill.CodeInvalidParameter, Parameter: name, Message: "IonText must be 1 to 1,048,576 characters"}
	}
	return *v.IonText, nil
}

func proofHolder(proof []merkle.Hash) *wire.ValueHolder {
	if proof == nil {
		return nil
	}
	text := journal.ProofText(proof)
	return &wire.ValueHolder{IonText: &text}
}

// addressed is what GetBlock and GetRevision share: the ledger, the block
// address (required) and the digest tip (optional).
type addressed struct {
	l     *quill.Ledger
	block journal.Address
	tip   *journal.Address
}

func (h *Handler) addressed(req *request, block, tip *wire.ValueHolder) (addressed, error) {
	var a addressed
	text, err := ionText(block, "BlockAddress", true)
	if err != nil {
		return a, err
	}
	if a.block, err = parseAddress("BlockAddress", text); err != nil {
		return a, err
	}
	if text, err = ionText(tip, "DigestTipAddress", false); err != nil {
		return a, err
	}
	if text != "" {
		t, err := parseAddress("DigestTipAddress", text)
		if err != nil {
			return a, err
		}
		a.tip = &t
	}
	a.l, err = h.ledger(req)
	return a, err
}

func parseAddress(param, text string) (journal.Address, error) {
	a, err := journal.ParseAddress(text)
	if err != nil {
		return a, &quill.Error{Code: quill.CodeInvalidParameter, Parameter: param, Message: err.Error()}
	}
	return a, nil
}

func (h *Handler) getBlock(req *request) error {
	var in wire.GetBlockRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	a, err := h.addressed(req, in.BlockAddress, in.DigestTipAddress)
	if err != nil {
		return err
	}
	block, proof, err := a.l.GetBlock(req.ctx, a.block, a.tip)
	if err != nil {
		return err
	}
	text := block.IonText()
	return req.reply(wire.GetBlockResponse{Block: wire.ValueHolder{IonText: &text}, Proof: proofHolder(proof)})
}

func (h *Handler) getRevision(req *request) error {
	var in wire.GetRevisionRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	docID, err := required(in.DocumentId, "DocumentId")
	if err != nil {
		return err
	}
	a, err := h.addressed(req, in.BlockAddress, in.DigestTipAddress)
	if err != nil {
		return err
	}
	rev, proof, err := a.l.GetRevision(req.ctx, a.block, docID, a.tip)
	if err != nil {
		return err
	}
	text := rev.IonText()
	return req.reply(wire.GetRevisionResponse{Revision: wire.ValueHolder{IonText: &text}, Proof: proofHolder(proof)})
}

func (h *Handler) tagResource(req *request) error {
	var in wire.TagResourceRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	if in.Tags == nil {
		return &quill.Error{Code: quill.CodeInvalidParameter, Parameter: "Tags", Message: "is required"}
	}
	if err := h.db.TagResource(req.ctx, req.parts[1], tagValues(in.Tags)); err != nil {
		return err
	}
	return req.reply(struct{}{})
}

func (h *Handler) untagResource(req *request) error {
	keys := req.r.URL.Query()["tagKeys"]
	if err := h.db.UntagResource(req.ctx, req.parts[1], keys); err != nil {
		return err
	}
	return req.reply(struct{}{})
}

func (h *Handler) listTags(req *request) error {
	tags, err := h.db.ListTagsForResource(req.ctx, req.parts[1])
	if err != nil {
		return err
	}
	return req.reply(wire.ListTagsForResourceResponse{Tags: tags})
}
