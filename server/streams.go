package server

import (
	"log/slog"
	"time"

	"github.com/quilldb/quill"
	"github.com/quilldb/quill/server/internal/wire"
)

func (h *Handler) streamJournalToKinesis(req *request) error {
	var in wire.StreamJournalToKinesisRequest
	if err := req.decode(&in); err != nil {
		return err
	}
	role, err := required(in.RoleArn, "RoleArn")
	if err != nil {
		return err
	}
	start, err := required(in.InclusiveStartTime, "InclusiveStartTime")
	if err != nil {
		return err
	}
	kc, err := required(in.KinesisConfiguration, "KinesisConfiguration")
	if err != nil {
		return err
	}
	arn, err := required(kc.StreamArn, "StreamArn")
	if err != nil {
		return err
	}
	name, err := required(in.StreamName, "StreamName")
	if err != nil {
		return err
	}
	input := &quill.StreamJournalToKinesisInput{RoleArn: role, InclusiveStartTime: start.Time(), StreamArn: arn,
		AggregationEnabled: kc.AggregationEnabled, StreamName: name, Tags: tagValues(in.Tags)}
	if in.ExclusiveEndTime != nil {
		input.ExclusiveEndTime = in.ExclusiveEndTime.Time()
	}
	id, err := h.db.StreamJournalToKinesis(req.ctx, req.parts[1], input)
	if err != nil {
		return err
	}
	return req.reply(wire.StreamJournalToKinesisResponse{StreamID: id})
}

func (h *Handler) describeJournalKinesisStream(req *request) error {
	d, err := h.db.DescribeJournalKinesisStream(req.ctx, req.parts[1], req.parts[3])
	if err != nil {
		return err
	}
	// The lag is Quill's: QLDB's shape has no member for it, so it goes to
	// the access log.
	req.logAttrs = append(req.logAttrs, slog.Uint64("lag_blocks", d.LagBlocks), slog.Float64("lag_seconds", d.LagSeconds))
	return req.reply(wire.DescribeJournalKinesisStreamResponse{Stream: streamDescription(d)})
}

func (h *Handler) listJournalKinesisStreams(req *request) error {
	max, token, err := pageParams(req)
	if err != nil {
		return err
	}
	page, next, err := h.db.ListJournalKinesisStreamsForLedger(req.ctx, req.parts[1], max, token)
	if err != nil {
		return err
	}
	out := wire.ListJournalKinesisStreamsResponse{Streams: []wire.JournalKinesisStreamDescription{}, NextToken: next}
	for _, d := range page {
		out.Streams = append(out.Streams, streamDescription(d))
	}
	return req.reply(out)
}

func (h *Handler) cancelJournalKinesisStream(req *request) error {
	id, err := h.db.CancelJournalKinesisStream(req.ctx, req.parts[1], req.parts[3])
	if err != nil {
		return err
	}
	return req.reply(wire.StreamJournalToKinesisResponse{StreamID: id})
}

func streamDescription(d *quill.JournalKinesisStreamDescription) wire.JournalKinesisStreamDescription {
	agg := d.AggregationEnabled
	out := wire.JournalKinesisStreamDescription{LedgerName: d.LedgerName, CreationTime: wire.NewTimestamp(d.CreationTime),
		InclusiveStartTime: wire.NewTimestamp(d.InclusiveStartTime), RoleArn: d.RoleArn, StreamID: d.StreamID, Arn: d.Arn,
		Status: d.Status, KinesisConfiguration: wire.KinesisConfiguration{StreamArn: &d.StreamArn, AggregationEnabled: &agg},
		ErrorCause: d.ErrorCause, StreamName: d.StreamName}
	if !d.ExclusiveEndTime.Equal(time.Time{}) {
		end := wire.NewTimestamp(d.ExclusiveEndTime)
		out.ExclusiveEndTime = &end
	}
	return out
}
