module go-sqs

go 1.26
