"""Documents made for customers: PDF copies of what they signed (copies.py), on A4 pages with the
CJK font embedded (pdf.py, fonts/)."""
