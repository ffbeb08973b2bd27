"""The messages the reviews domain sends (notify events), in the recipient's language."""
from flask_babel import format_date
from flask_babel import gettext as _

from ..links import absolute
from ..notify import Notice, message


@message("improvement.reminder")
def reminder(actions, today) -> Notice:
    """To an action's owner: their improvement actions due soon or overdue, one line each with its link."""
    lines = []
    for action in actions:
        if action.due_date < today:
            when = _("overdue since %(date)s", date=format_date(action.due_date, "long"))
        else:
            when = _("due %(date)s", date=format_date(action.due_date, "long"))
        lines.append("- " + _("%(title)s (%(when)s)", title=action.title, when=when)
                     + f"\n  {absolute(f'/reviews/actions/{action.id}')}")
    overdue = sum(1 for a in actions if a.due_date < today)
    subject = (_("%(count)s improvement actions are overdue", count=overdue) if overdue
               else _("%(count)s improvement actions are due soon", count=len(actions)))
    return Notice(subject, _("Hello,\n\nThese improvement actions from the review meetings are yours:\n\n"
                             "%(lines)s\n\nMark each one done with a note of what was done.\n",
                             lines="\n".join(lines)))
