"""The bookshop's one invariant: a sale's amount is the book's price times the quantity."""

INVARIANTS = [
    {
        "id": "sale-amount-matches-price",
        "severity": "error",
        "title": "every sale is charged price × quantity",
        "explanation": "A sale whose amount differs from the book's price times the quantity "
        "means money was taken that the catalogue does not justify.",
        "sql": "SELECT s.id AS sale_id, s.amount, b.price * s.quantity AS expected "
        "FROM sales s JOIN books b ON b.id = s.book_id WHERE s.amount <> b.price * s.quantity",
    }
]
