"""Reading tables, understanding their columns, validating them, splitting them."""
