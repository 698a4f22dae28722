module go-minimal

go 1.26
