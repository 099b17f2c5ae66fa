"""``{{ page|page_links }}``: the page numbers to link — first, last and two either side of the
current page, with ``None`` for each gap — computed without walking every page (a list of
10,000 requests has 500 pages; the template should not loop over them)."""

from django import template
from django.core.paginator import Paginator

register = template.Library()


@register.filter
def page_links(page) -> list[int | None]:
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return [None if n == Paginator.ELLIPSIS else n for n in numbers]
