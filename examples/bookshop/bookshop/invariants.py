"""The bookshop's invariants: money taken matches the catalogue."""

from harness.invariants import Invariant

INVARIANTS = [
    Invariant(
        id="sale-amount-matches-price",
        severity="error",
        title="every sale is charged price times quantity",
        explanation=(
            "A sale whose amount differs from the book's price times the quantity means money "
            "was taken that the catalogue does not justify."
        ),
        sql=(
            "SELECT s.id AS sale_id, b.title, s.quantity, s.amount, "
            "b.price * s.quantity AS expected FROM sales s JOIN books b ON b.id = s.book_id "
            "WHERE s.amount <> b.price * s.quantity ORDER BY s.id"
        ),
        table="sales",
    ),
    Invariant(
        id="sale-quantity-positive",
        severity="warning",
        title="sales sell at least one copy",
        explanation="A sale of zero or fewer copies is a refund recorded in the wrong place.",
        sql="SELECT id AS sale_id, quantity FROM sales WHERE quantity <= 0",
        table="sales",
    ),
]
