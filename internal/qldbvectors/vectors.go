// Package qldbvectors holds the real QLDB test vectors of the spec
// (qldb-formats.md §9) for Quill's tests: journal blocks, revisions, proofs
// and digests that Amazon QLDB produced, with the values recomputed from
// them. The Ion texts are verbatim in the .ion files beside this one.
package qldbvectors

import _ "embed" // the vector files

// V1: GetBlock and GetRevision of block 100 of ledger vehicle-registration
// (AWS CLI examples), with proofs to tip 123.
var (
	//go:embed v1-block.ion
	V1Block string
	//go:embed v1-block-proof.ion
	V1BlockProof string
	//go:embed v1-revision-proof.ion
	V1RevisionProof string
)

// Values recomputed from V1 (base64).
const (
	V1DocumentID        = "JUJgkIcNbhS2goq8RqLuZ4"
	V1MetadataHash      = "vNbkf63AqIvow6E3VraH1FfPrZxyU0OkJucmJGWte1s="
	V1DataHash          = "ykAB8EB0tXxIGmJ9Y9mwppjP1Z9S3Iw+vKN1L9ZXW3A="
	V1RevisionHash      = "mHVex/yjHAWjFPpwhBuH2GKXmKJjK2FBa9faqoUVNtg="
	V1TransactionInfo   = "TvTXygML1bMe6NvEZtGkX+KR+W/EJl4qD1mmV77KZQg="
	V1StatementDigest   = "jcgPX2vsOJ0waum4qmDYtn1pCAT9xKNIzA+2k4R+mxA="
	V1BlockHash         = "NoChM92yKRuJAb/jeLd1VnYn4DHiWIf071ACfic9uHc="
	V1Digest            = "6m6BMXobbJKpMhahwVthAEsN6awgnHK62Qq5McGP1Gk="
	V1TipSequenceNo     = 123
	V1BlockSequenceNo   = 100
	V1EntriesHash       = "l05LOsiKV14SDbuaYnH7uwXzUvqzIwUiRLXGbTyj/nY="
	V1PreviousBlockHash = "7kewBXhpdbClcZKxhVmpoMHpUGOJtWQD0iY2LPfZkYA="
)

// V2: a Kinesis BLOCK_SUMMARY payload (block 3 of vehicle-registration),
// and its one revision as recovered from the INSERT statement.
var (
	//go:embed v2-block-summary.ion
	V2BlockSummary string
)

// V2 revision and its recomputed hashes.
const (
	V2RevisionData     = `{FirstName:"Testing new 600",LastName:"Lewis",DOB:1963-08-19T,GovId:"LEWISR261LL",GovIdType:"Driver License",Address:"1719 University Street, Seattle, WA, 98109"}`
	V2RevisionMetadata = `{id:"D35qd3e2prnJYmtKW6kok1",version:0,txTime:2019-12-11T07:20:51.245Z,txId:"0007KbqoyqAIch6XRbQ4iA"}`
	V2MetadataHash     = "W4Vu08IPmm+RN14ckrCKKtFaDMhGRF04l1Xm/JUh4R4="
	V2DataHash         = "vqwGYhSd4cV7G4YnxaJJk9CaYWFm8LFIu9zFNlAxzHs="
	V2RevisionHash     = "vJFOcsNRM14gsIBSEnwPhMVgRAWf/4EUW5gPYbtmDv0="
	// V2EditedData is the sample authors' edited record: it must NOT
	// produce V2RevisionHash.
	V2EditedData = `{FirstName:"Nova",LastName:"Lewis",DOB:1963-08-19T,GovId:"LEWISR261LL",GovIdType:"Driver License",Address:"1719 University Street, Seattle, WA, 98109"}`
)

// V6: a GetRevision response of the QLDB KVS library's tests (block 429).
var (
	//go:embed v6-revision.ion
	V6Revision string
)

// V6 recomputed hashes.
const (
	V6MetadataHash = "R5f2f/fjwSotbU5K6oEclPHfrAeKk7nNtkAMvNiuZPg="
	V6DataHash     = "xlToHA0CNrpU3Mma1ICUKyEe4me6tPuvSlAnfNiGZK8="
)

// ProofVector is a revision hash, the proof QLDB returned for it, and the
// digest the proof must fold to.
type ProofVector struct {
	Name   string
	Start  string // revision or block hash, base64
	Proof  string // Ion text list of blobs
	Digest string // base64
}

// RevisionProofs are V3 (ledger keyvaluestore, block 90, tip 91) and V4
// (ledger accord-contracts, block 175, tip 176).
var RevisionProofs = []ProofVector{
	{
		Name:   "V3 keyvaluestore seq 90 tip 91",
		Start:  "tS+8aK9q4O8z6UpmUc/XMYhQYo/qy2YDHC+mxKWKgvo=",
		Proof:  "[{{G1/kFcc0BTpQMPtjymwxdXIqLct4XiBSW1bbRrRfWJo=}},{{s50Ex4gcOgimMf84bHwPQz2bJ9Gb/vj3wiPgQHCDrBs=}},{{ZaWBmeIAbFQbx8Gvn1ctyXye6YXpvKhQ0Wp139f54t8=}},{{thpqVHO8pIaIOfHcQSg+Pr8Ov833+4fTiADA2fj3+70=}},{{oovDHkBCwSG+LboyWcWzVqy2xCLCUEZBKU2jqKoMdSE=}},{{hthSOsAjMKF0sMfynt9YTuwpuXwP0c6rAb5pg0p44IA=}},{{+vWznEGRlfu/Kc4Q5AylVSuylJSqMtvO+hUpijHVZ0g=}},{{xNTTjhOCAFHnLOTDTeH7bMUt6dlvUDSaBIHYcFOyY3w=}},{{u1hrObLyR020Wv5e6vOPLTFNjjw8Mkbf0BvTQmA96QI=}}]",
		Digest: "QDYY9bLz6v/PInJ6FrqPE0dalVYRealszt9DyyRDMA0=",
	},
	{
		Name:   "V4 accord-contracts seq 175 tip 176",
		Start:  "OJo1hlmyVvRHP60jGkIeG44+TDEI0Wtnf+udRfwKFHg=",
		Proof:  "[{{kAQiHJo6G3r+l7O8nsHxz1x+NxvVV7JbU961OMVMFyM=}},{{poTwYxv3hKFziofD2u+SfvkPRUMXXcYOd4yj82wBhx4=}},{{m43BXjwJ8Kn9NyAGgai2A9S0/YCfAQfUBt6868mTqOY=}},{{m43BXjwJ8Kn9NyAGgai2A9S0/YCfAQfUBt6868mTqOY=}},{{d2vl/alHEi/4DDiQpSpCXWu9mFDUZyEqvlfGLDAG0dw=}},{{b6YqEUv7MMI3cF3cMF7lgBtikrPAhuF2kwVSUkW8Yh8=}},{{0L7AuMPEGEnmSPEsf5gHj5ryZ47vZZcDh9R9bm7RgvE=}},{{su0Jo/1rIhdHncfm7JRlz3Pv726oPZE4s8R8mvRLC5M=}},{{OBH12ldxb2NkK4M9Jw5JR4JFW5KeRhms9JDAfr4+WMM=}},{{LZgU0jltxUhzCisrM0kxg8FDjIpwCLrVHl0MYDUs9rE=}}]",
		Digest: "jx1DMTXVkqdFaLdBHlpqG/13SLPlEKFcPlUrH/pWngE=",
	},
}
