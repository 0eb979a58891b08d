module nsq-bench/null_nsqd

go 1.21
