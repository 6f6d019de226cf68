module stampede/csrparse

go 1.26.0
