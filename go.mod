module github.com/quilldb/quill

go 1.26

require github.com/stretchr/testify v1.12.1

require (
	github.com/amazon-ion/ion-go v1.5.0 // indirect
	github.com/amzn/ion-go v1.1.3 // indirect
	github.com/amzn/ion-hash-go v1.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.1.0 // indirect
	golang.org/x/sys v0.1.0 // indirect
)
