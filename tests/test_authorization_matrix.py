"""The authorisation matrix (DESIGN §5.3): every route of the URL map, with each of its methods, for
every role, the anonymous visitor, a customer holding their order's service link, a courier holding a
shipment's link, and an integration with an API token, against the demo firm's real objects, on
SQLite and PostgreSQL.

MATRIX below says, per "endpoint METHOD", who is let through. Everybody else is refused, and how is
the same everywhere unless REFUSALS says otherwise: the JSON API answers 401 without a token (and 403
for a token whose owner may not); a route whose URL is itself the credential (/c/, /aftersales/c/,
/b/, /enrol/<token>) answers 404 to a token that does not open it; a staff page sends whoever has no
login to the login page and answers 403 to a role that may not. A route missing from MATRIX fails
the test: a new route must be classified here.

"Let through" means the view ran past its guards: a page, a download, a redirect elsewhere, a form's
422, a 409 for the object's state. Unsafe methods are sent with a valid CSRF token (so what answers is
the permission check) and an empty form; each request is rolled back at its end (authz_world.py), so
one demo firm serves every principal. To keep the run short, each route is asked for as a whole page
by the first principal let through, and as an htmx request (a fragment, the same view and status) by
everybody else; a PDF is rendered for the first principal let through only (the others would run the
same view with another role: what matters for them, a refusal, is still checked). On PostgreSQL every
refusal is checked and, of those let through, the first principal per route: who may is decided in
Python, the same on both databases; what differs per database, the queries, that principal runs.
"""
import pytest

from .authz_world import (OUTSIDERS, PRINCIPALS, ROLES, build_world, clients, install_dry_run, send)

STAFF = frozenset(ROLES)
OFFICE = STAFF - {"worker", "courier"}
EVERYONE = frozenset(PRINCIPALS)
NOBODY = frozenset()

MATRIX = {
    # admin
    "admin.badge POST": {"admin"},
    "admin.calendar_defaults POST": {"admin"},
    "admin.calendar_delete POST": {"admin"},
    "admin.calendar_view GET": {"admin"},
    "admin.calendar_view POST": {"admin"},
    "admin.index GET": {"admin"},
    "admin.link_identity POST": {"admin"},
    "admin.notifications GET": {"admin"},
    "admin.notifications POST": {"admin"},
    "admin.remove_seal POST": {"admin"},
    "admin.revoke_all POST": {"admin"},
    "admin.robot GET": {"admin"},
    "admin.robot POST": {"admin"},
    "admin.robot_delete POST": {"admin"},
    "admin.robot_test POST": {"admin"},
    "admin.seal_image GET": {"admin"},
    "admin.settings GET": {"admin"},
    "admin.settings POST": {"admin"},
    "admin.unlink_identity POST": {"admin"},
    "admin.upload_seal POST": {"admin"},
    "admin.user GET": {"admin"},
    "admin.user POST": {"admin"},
    "admin.webhook GET": {"admin"},
    "admin.webhook POST": {"admin"},
    "admin.webhook_active POST": {"admin"},
    "admin.webhook_delete POST": {"admin"},
    "admin.webhook_new GET": {"admin"},
    "admin.webhook_new POST": {"admin"},
    "admin.webhook_resend POST": {"admin"},
    "admin.webhook_rotate POST": {"admin"},
    "admin.webhook_test POST": {"admin"},
    "admin.webhooks GET": {"admin"},
    # aftersales
    "aftersales.add_cost POST": {"finance", "manager", "aftersales"},
    "aftersales.assign POST": {"sales", "manager", "aftersales"},
    "aftersales.classify POST": {"sales", "manager", "aftersales"},
    "aftersales.confirm_by_phone POST": {"sales", "manager", "aftersales"},
    "aftersales.customer_confirm POST": {"customer"},
    "aftersales.customer_delivery_note_pdf GET": {"customer"},
    "aftersales.customer_document GET": NOBODY,
    "aftersales.customer_notices GET": {"customer"},
    "aftersales.customer_reply POST": {"customer"},
    "aftersales.customer_survey POST": NOBODY,
    "aftersales.customer_ticket POST": {"customer"},
    "aftersales.follow_up POST": {"sales", "manager", "aftersales"},
    "aftersales.hand_back POST": {"sales", "manager", "aftersales"},
    "aftersales.index GET": OFFICE,
    "aftersales.open_ticket POST": {"sales", "manager", "aftersales"},
    "aftersales.order GET": OFFICE,
    "aftersales.phone_survey GET": {"sales", "manager", "aftersales"},
    "aftersales.respond POST": {"sales", "manager", "aftersales"},
    "aftersales.save_customer_notices POST": {"customer"},
    "aftersales.save_phone_survey POST": {"sales", "manager", "aftersales"},
    "aftersales.service_link POST": {"sales", "manager"},
    "aftersales.ticket GET": OFFICE,
    # api
    "api.add_shipment_event POST": {"api"},
    "api.create_payment POST": {"api"},
    "api.create_requirement POST": {"api"},
    "api.create_retail_order POST": {"api"},
    "api.get_anomaly GET": {"api"},
    "api.get_customer GET": {"api"},
    "api.get_invoice GET": {"api"},
    "api.get_kpis GET": {"api"},
    "api.get_lot GET": {"api"},
    "api.get_material GET": {"api"},
    "api.get_order GET": {"api"},
    "api.get_product GET": {"api"},
    "api.get_requirement GET": {"api"},
    "api.get_return GET": {"api"},
    "api.get_shipment GET": {"api"},
    "api.get_shipment_receipt GET": {"api"},
    "api.get_ticket GET": {"api"},
    "api.get_work_order GET": {"api"},
    "api.list_anomalies GET": {"api"},
    "api.list_customers GET": {"api"},
    "api.list_invoices GET": {"api"},
    "api.list_lots GET": {"api"},
    "api.list_materials GET": {"api"},
    "api.list_order_versions GET": {"api"},
    "api.list_orders GET": {"api"},
    "api.list_payments GET": {"api"},
    "api.list_products GET": {"api"},
    "api.list_progress_reports GET": {"api"},
    "api.list_requirements GET": {"api"},
    "api.list_returns GET": {"api"},
    "api.list_shipment_events GET": {"api"},
    "api.list_shipments GET": {"api"},
    "api.list_tickets GET": {"api"},
    "api.list_work_orders GET": {"api"},
    "api.openapi GET": EVERYONE,
    "api.problem_types GET": EVERYONE,
    "api.reference GET": EVERYONE,
    "api.report_progress POST": NOBODY,
    # api_tokens
    "api_tokens.index GET": STAFF,
    "api_tokens.index POST": STAFF,
    "api_tokens.revoke POST": {"manager"},
    # auth
    "auth.account GET": STAFF,
    "auth.account POST": STAFF,
    "auth.badge GET": NOBODY,
    "auth.badge POST": NOBODY,
    "auth.enrol GET": EVERYONE,
    "auth.enrol POST": EVERYONE,
    "auth.enrol_qr GET": NOBODY,
    "auth.enrol_qr POST": NOBODY,
    "auth.external_callback GET": NOBODY,
    "auth.external_finish POST": NOBODY,
    "auth.external_link_start POST": NOBODY,
    "auth.external_start GET": NOBODY,
    "auth.floor_phones GET": {"admin", "production"},
    "auth.floor_phones POST": {"admin", "production"},
    "auth.login GET": EVERYONE,
    "auth.login POST": EVERYONE,
    "auth.logout POST": STAFF,
    "auth.logout_everywhere POST": STAFF,
    "auth.revoke_device POST": {"admin", "production"},
    "auth.set_language POST": EVERYONE,
    "auth.switch GET": STAFF,
    "auth.switch POST": STAFF,
    # costing
    "costing.accept_quote POST": {"sales", "manager"},
    "costing.close POST": {"finance", "manager"},
    "costing.decide_quote POST": {"sales", "manager"},
    "costing.edit_quote GET": {"sales", "operations", "finance", "manager"},
    "costing.edit_quote POST": {"sales", "operations", "finance", "manager"},
    "costing.estimate_quote POST": {"sales", "operations", "finance", "manager"},
    "costing.finalise POST": {"finance"},
    "costing.new_quote GET": {"sales", "operations", "finance", "manager"},
    "costing.new_quote POST": {"sales", "operations", "finance", "manager"},
    "costing.period_csv GET": {"sales", "operations", "finance", "manager"},
    "costing.period_form GET": {"sales", "operations", "finance", "manager"},
    "costing.period_xlsx GET": {"sales", "operations", "finance", "manager"},
    "costing.quote GET": {"sales", "operations", "finance", "manager"},
    "costing.quote_timeline GET": {"sales", "operations", "finance", "manager"},
    "costing.quotes GET": {"sales", "operations", "finance", "manager"},
    "costing.save POST": {"finance"},
    "costing.save_causes POST": {"admin", "finance", "manager"},
    "costing.save_settings POST": {"admin", "finance", "manager"},
    "costing.send_quote POST": {"sales", "manager"},
    "costing.settings GET": {"admin", "finance", "manager"},
    "costing.sheet GET": {"sales", "operations", "finance", "manager"},
    "costing.sheet_csv GET": {"sales", "operations", "finance", "manager"},
    "costing.sheet_xlsx GET": {"sales", "operations", "finance", "manager"},
    "costing.sources GET": {"sales", "operations", "finance", "manager"},
    # customers
    "customers.detail GET": OFFICE,
    "customers.edit GET": {"admin", "sales", "manager"},
    "customers.edit POST": {"admin", "sales", "manager"},
    "customers.edit_product GET": {"admin", "production", "warehouse", "manager"},
    "customers.edit_product POST": {"admin", "production", "warehouse", "manager"},
    "customers.index GET": OFFICE,
    # golive
    "golive.index GET": {"admin", "operations"},
    "golive.sample GET": {"admin", "operations"},
    "golive.template GET": {"admin", "operations"},
    "golive.upload POST": {"admin", "operations"},
    # kpi
    "kpi.causes GET": {"sales", "operations", "finance", "manager"},
    "kpi.dashboard GET": {"admin", "sales", "operations", "finance", "manager"},
    "kpi.delays GET": {"admin", "sales", "operations", "finance", "manager"},
    "kpi.drill GET": {"admin", "sales", "operations", "finance", "manager"},
    # main
    "main.health GET": EVERYONE,
    "main.home GET": STAFF,
    "main.search GET": OFFICE,
    # orders
    "orders.amend GET": {"sales"},
    "orders.amend POST": {"sales"},
    "orders.budget POST": {"finance"},
    "orders.confirmation GET": {"admin", "sales", "operations", "finance", "manager", "aftersales"},
    "orders.create GET": {"sales"},
    "orders.create POST": {"sales"},
    "orders.decide POST": {"manager", "finance"},
    "orders.detail GET": OFFICE,
    "orders.edit GET": {"sales"},
    "orders.edit POST": {"sales"},
    "orders.index GET": OFFICE,
    "orders.move POST": {"manager"},
    "orders.override POST": {"manager"},
    "orders.payment POST": {"finance"},
    "orders.prepayment_override POST": {"finance"},
    "orders.renew_link POST": {"sales", "manager"},
    "orders.review POST": {"production"},
    "orders.revise POST": {"sales"},
    "orders.submit POST": {"sales"},
    "orders.timeline GET": OFFICE,
    "orders.versions GET": OFFICE,
    # photos
    "photos.full GET": OFFICE,
    "photos.thumb GET": OFFICE,
    # production
    "production.anomaly POST": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.board GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.centre_edit GET": {"operations", "production"},
    "production.centre_edit POST": {"operations", "production"},
    "production.centres_index GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.centres_index POST": {"operations", "production"},
    "production.centres_load GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.create POST": {"operations", "production"},
    "production.create_stocking POST": {"operations", "production"},
    "production.daily_cause POST": {"operations", "production"},
    "production.daily_plan GET": {"operations", "production"},
    "production.daily_plan POST": {"operations", "production"},
    "production.daily_sheet GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.daily_xlsx GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.edit GET": {"operations", "production"},
    "production.edit POST": {"operations", "production"},
    "production.floor GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.index GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.issue_material POST": {"production", "warehouse", "worker"},
    "production.label GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.label_pdf GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.label_sheet GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.label_sheet_pdf GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.label_sized GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.label_svg GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.lot_label_pdf GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "production.lot_label_sized GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "production.lots_sheet_pdf GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "production.move POST": {"production", "worker"},
    "production.my_earnings GET": {"production", "worker"},
    "production.operation_floor GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.operation_report POST": {"production", "worker"},
    "production.outsourced_operation GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.outsourcing_list GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.photo GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.piece_rates GET": {"operations", "production", "finance", "manager"},
    "production.plan GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.process_card GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.process_card_pdf GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.receive_batch POST": {"operations", "production", "purchasing", "warehouse"},
    "production.report POST": {"production", "worker"},
    "production.resolve POST": {"operations", "production"},
    "production.routing GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.routing POST": {"operations", "production"},
    "production.send_batch POST": {"operations", "production", "purchasing", "warehouse"},
    "production.stocking GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    "production.work_order_materials GET": {"operations", "production", "purchasing", "warehouse", "qc", "manager", "worker"},
    # projects
    "projects.accept POST": NOBODY,
    "projects.acceptance_copy_pdf GET": NOBODY,
    "projects.acceptance_link POST": {"sales", "operations", "manager"},
    "projects.customer_document GET": NOBODY,
    "projects.detail GET": OFFICE,
    "projects.document GET": OFFICE,
    "projects.hand_over POST": {"sales", "operations", "manager"},
    "projects.new GET": {"sales", "operations", "manager"},
    "projects.new POST": {"sales", "operations", "manager"},
    "projects.progress POST": {"sales", "operations", "manager"},
    # public
    "public.answer_first_article POST": NOBODY,
    "public.clarify_requirement POST": NOBODY,
    "public.confirm_requirement POST": NOBODY,
    "public.countersign POST": NOBODY,
    "public.countersign_copy_pdf GET": NOBODY,
    "public.first_article_photo GET": NOBODY,
    "public.link_qr GET": {"sales", "manager"},
    "public.open_link GET": {"customer", "courier_link"},
    "public.requirement_file GET": NOBODY,
    "public.statement_confirm POST": NOBODY,
    "public.statement_dispute POST": NOBODY,
    # purchasing
    "purchasing.cancel POST": {"purchasing", "manager"},
    "purchasing.cancel_request POST": {"purchasing", "manager"},
    "purchasing.index GET": {"admin", "operations", "production", "purchasing", "warehouse", "finance", "manager"},
    "purchasing.new_order GET": {"purchasing", "manager"},
    "purchasing.new_order POST": {"purchasing", "manager"},
    "purchasing.new_request GET": {"purchasing", "manager"},
    "purchasing.new_request POST": {"purchasing", "manager"},
    "purchasing.new_supplier GET": {"purchasing", "manager"},
    "purchasing.new_supplier POST": {"purchasing", "manager"},
    "purchasing.order GET": {"admin", "operations", "production", "purchasing", "warehouse", "finance", "manager"},
    "purchasing.order_print GET": {"admin", "operations", "production", "purchasing", "warehouse", "finance", "manager"},
    "purchasing.orders GET": {"admin", "operations", "production", "purchasing", "warehouse", "finance", "manager"},
    "purchasing.receive GET": {"purchasing", "warehouse"},
    "purchasing.receive POST": {"purchasing", "warehouse"},
    "purchasing.receive_customer_material GET": {"purchasing", "warehouse"},
    "purchasing.receive_customer_material POST": {"purchasing", "warehouse"},
    "purchasing.send POST": {"purchasing", "manager"},
    "purchasing.suppliers GET": {"admin", "operations", "production", "purchasing", "warehouse", "finance", "manager"},
    # pwa
    "pwa.manifest GET": EVERYONE,
    "pwa.offline GET": EVERYONE,
    "pwa.outbox GET": EVERYONE,
    "pwa.service_worker GET": EVERYONE,
    # quality
    "quality.add_item POST": {"qc", "manager"},
    "quality.decide POST": {"qc"},
    "quality.delete_item POST": {"qc", "manager"},
    "quality.dispose POST": {"qc"},
    "quality.first_article GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.first_article_photos POST": {"qc"},
    "quality.index GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.inspect GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.inspect POST": {"qc"},
    "quality.new_plan GET": {"qc", "manager"},
    "quality.new_plan POST": {"qc", "manager"},
    "quality.plan GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.plan POST": {"qc", "manager"},
    "quality.plans GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.report GET": {"admin", "sales", "operations", "production", "purchasing", "warehouse", "qc", "manager"},
    "quality.send_first_article POST": {"qc"},
    "quality.start_first_article POST": {"qc"},
    "quality.start_lot POST": {"qc"},
    "quality.start_work_order POST": {"qc"},
    # receivables
    "receivables.ageing GET": {"admin", "sales", "finance", "manager"},
    "receivables.auto_match POST": {"admin", "finance"},
    "receivables.customer GET": {"admin", "sales", "finance", "manager"},
    "receivables.export_csv GET": {"admin", "finance", "manager"},
    "receivables.export_form GET": {"admin", "finance", "manager"},
    "receivables.export_xlsx GET": {"admin", "finance", "manager"},
    "receivables.match POST": {"admin", "finance"},
    "receivables.order GET": {"admin", "sales", "finance", "manager"},
    "receivables.record_invoice POST": {"admin", "finance"},
    "receivables.release POST": {"admin", "finance"},
    "receivables.revoke POST": {"admin", "finance"},
    "receivables.statement_detail GET": {"admin", "sales", "finance", "manager"},
    "receivables.statement_draft POST": {"admin", "finance"},
    "receivables.statement_list GET": {"admin", "sales", "finance", "manager"},
    "receivables.statement_send POST": {"admin", "finance"},
    "receivables.statement_xlsx GET": {"admin", "sales", "finance", "manager"},
    "receivables.unmatch POST": {"admin", "finance"},
    "receivables.void_invoice POST": {"admin", "finance"},
    # relations
    "relations.overview GET": OFFICE,
    # requirements
    "requirements.cancel POST": OFFICE,
    "requirements.create GET": {"sales"},
    "requirements.create POST": {"sales"},
    "requirements.detail GET": OFFICE,
    "requirements.download GET": OFFICE,
    "requirements.edit GET": {"sales"},
    "requirements.edit POST": {"sales"},
    "requirements.index GET": OFFICE,
    "requirements.period_csv GET": OFFICE,
    "requirements.period_xlsx GET": OFFICE,
    "requirements.product_fields GET": {"sales"},
    "requirements.record_csv GET": OFFICE,
    "requirements.record_xlsx GET": OFFICE,
    "requirements.renew_link POST": {"sales", "manager"},
    "requirements.send POST": {"sales"},
    "requirements.timeline GET": OFFICE,
    "requirements.upload POST": {"sales"},
    # retail
    "retail.detail GET": {"sales", "operations", "warehouse", "finance", "manager", "aftersales"},
    "retail.import_confirm POST": {"sales"},
    "retail.import_page GET": {"sales"},
    "retail.import_page POST": {"sales"},
    "retail.index GET": {"sales", "operations", "warehouse", "finance", "manager", "aftersales"},
    "retail.new GET": {"sales"},
    "retail.new POST": {"sales"},
    "retail.sample GET": {"sales"},
    "retail.ship POST": {"operations", "warehouse"},
    # reviews
    "reviews.action GET": {"sales", "operations", "production", "purchasing", "qc", "finance", "manager", "aftersales"},
    "reviews.actions GET": OFFICE,
    "reviews.add_action POST": {"operations", "finance", "manager"},
    "reviews.detail GET": {"sales", "operations", "production", "purchasing", "qc", "finance", "manager", "aftersales"},
    "reviews.edit GET": {"operations", "finance", "manager"},
    "reviews.edit POST": {"operations", "finance", "manager"},
    "reviews.edit_action GET": {"operations", "finance", "manager"},
    "reviews.edit_action POST": {"operations", "finance", "manager"},
    "reviews.index GET": {"sales", "operations", "production", "purchasing", "qc", "finance", "manager", "aftersales"},
    "reviews.move POST": {"operations", "finance", "manager", "aftersales"},
    "reviews.new GET": {"operations", "finance", "manager"},
    "reviews.new POST": {"operations", "finance", "manager"},
    # scan
    "scan.resolve POST": STAFF,
    "scan.scan GET": STAFF,
    # shipping
    "shipping.add_cost POST": {"operations", "warehouse", "finance", "manager", "aftersales"},
    "shipping.add_document POST": {"operations", "warehouse", "qc"},
    "shipping.add_event POST": {"operations", "warehouse"},
    "shipping.book_collection POST": {"operations", "warehouse", "manager", "aftersales"},
    "shipping.carrier_edit POST": {"operations", "warehouse"},
    "shipping.carrier_new POST": {"operations", "warehouse"},
    "shipping.carriers_page GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.carton_by_token GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.carton_labels_pdf GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.carton_sheet_pdf GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.carton_size POST": {"operations", "warehouse"},
    "shipping.check POST": {"operations", "warehouse"},
    "shipping.close_return POST": {"manager", "aftersales"},
    "shipping.collected POST": {"operations", "warehouse", "manager", "aftersales", "courier"},
    "shipping.courier_collected POST": NOBODY,
    "shipping.courier_dispatch POST": {"courier_link"},
    "shipping.courier_event POST": {"courier_link"},
    "shipping.courier_problem POST": {"courier_link"},
    "shipping.courier_receipt GET": {"courier_link"},
    "shipping.create POST": {"operations", "warehouse"},
    "shipping.credit POST": {"manager", "aftersales"},
    "shipping.delivery_note GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.delivery_note_pdf GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.detail GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.dispatch POST": {"operations", "warehouse"},
    "shipping.document GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.index GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.inspect POST": {"operations", "warehouse", "qc", "manager", "aftersales"},
    "shipping.link_replacement POST": {"operations", "warehouse", "manager", "aftersales"},
    "shipping.make_cartons POST": {"operations", "warehouse"},
    "shipping.order_shipments GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.override POST": {"operations", "manager"},
    "shipping.pack POST": {"operations", "warehouse"},
    "shipping.photo GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.receipt GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.receipt_copy_pdf GET": NOBODY,
    "shipping.receipt_photo GET": NOBODY,
    "shipping.refuse POST": {"manager", "aftersales"},
    "shipping.remove_document POST": {"operations", "warehouse", "qc"},
    "shipping.repair POST": {"manager", "aftersales"},
    "shipping.replacement POST": {"operations", "warehouse", "manager", "aftersales"},
    "shipping.return_case GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.seal_image GET": {"sales", "operations", "production", "warehouse", "qc", "finance", "manager", "aftersales"},
    "shipping.shipment_carrier POST": {"operations", "warehouse"},
    "shipping.sign POST": {"courier_link"},
    "shipping.start_return POST": {"sales", "operations", "warehouse", "manager", "aftersales"},
    "shipping.vehicle_edit POST": {"operations", "warehouse"},
    "shipping.vehicle_new POST": {"operations", "warehouse"},
    # static GET
    "static GET": EVERYONE,
    # stock
    "stock.add_lot POST": {"warehouse"},
    "stock.adjust POST": {"production", "warehouse"},
    "stock.bom GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.bom POST": {"admin", "production", "purchasing", "warehouse", "manager"},
    "stock.count POST": {"warehouse"},
    "stock.edit_material GET": {"admin", "production", "purchasing", "warehouse", "manager"},
    "stock.edit_material POST": {"admin", "production", "purchasing", "warehouse", "manager"},
    "stock.index GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.locations GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.locations POST": {"admin", "production", "purchasing", "warehouse", "manager"},
    "stock.lot GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.lot_by_token GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.lot_label GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.lot_label_svg GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.material GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.post_stocktake POST": {"operations", "finance", "manager"},
    "stock.relocate POST": {"production", "warehouse"},
    "stock.reopen_stocktake POST": {"operations", "warehouse", "finance", "manager"},
    "stock.scrap POST": {"production", "warehouse"},
    "stock.stocktake GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.stocktake_print GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.stocktakes GET": {"admin", "operations", "production", "purchasing", "warehouse", "qc", "finance", "manager"},
    "stock.stocktakes POST": {"warehouse"},
    # sync
    "sync.conflict_photo GET": {"admin", "operations", "production", "warehouse", "manager"},
    "sync.conflicts GET": {"admin", "operations", "production", "warehouse", "manager"},
    "sync.devices GET": {"admin"},
    "sync.enrol POST": STAFF,
    "sync.manifest GET": STAFF,
    "sync.resolve_conflict POST": {"admin", "operations", "production", "warehouse", "manager"},
    "sync.revoke_device POST": {"admin"},
    # tls
    "tls.ca_crt GET": NOBODY,
    "tls.ca_pem GET": NOBODY,
    "tls.certificate GET": EVERYONE,
}

# Where a refusal is not the usual one for its kind of route (see the module's docstring).
_ROLES_404 = {role: 404 for role in ROLES}
REFUSALS = {
    # another person's API token, floor phone or login session: hidden like a missing row
    "api_tokens.revoke POST": {role: 404 for role in ROLES if role != "manager"},
    # the customer's service link's QR: only who may manage that link sees that it exists
    "public.link_qr GET": {role: 404 for role in ROLES if role not in ("sales", "manager")},
    # WeCom / DingTalk sign-in while no provider is configured: no such page, for anybody
    "auth.external_link_start POST": _ROLES_404,
    "auth.external_start GET": {principal: 404 for principal in PRINCIPALS},
    "auth.external_callback GET": {principal: 404 for principal in PRINCIPALS},
    "auth.external_finish POST": {principal: 404 for principal in PRINCIPALS},
    # the local certificate authority's files: none made in the tests
    "tls.ca_crt GET": {principal: 404 for principal in PRINCIPALS},
    "tls.ca_pem GET": {principal: 404 for principal in PRINCIPALS},
    # a requirement's attachment is checked against the requirement first
    "requirements.download GET": {"worker": 404, "courier": 404},
}

# Routes whose object the demo firm has none of (webhook endpoints, deliveries, linked sign-in
# identities, a seal, requirement attachments, project files, sync conflicts, floor phones, an import in
# progress): the URL names an id that does not exist, and those let through get 404, from the loader.
MISSING = {"admin.webhook GET", "admin.webhook POST", "admin.webhook_active POST", "admin.webhook_delete POST",
           "admin.webhook_rotate POST", "admin.webhook_test POST", "admin.webhook_resend POST",
           "admin.unlink_identity POST", "admin.seal_image GET", "shipping.seal_image GET",
           "auth.revoke_device POST", "sync.revoke_device POST", "sync.resolve_conflict POST",
           "sync.conflict_photo GET", "retail.import_confirm POST", "projects.document GET",
           "requirements.download GET"}

LINK_PREFIXES = ("/c/", "/aftersales/c/", "/b/", "/enrol/<")


def expected(rule, method: str, principal: str):
    """The outcome MATRIX and the refusal rules give principal on rule with method."""
    key = f"{rule.endpoint} {method}"
    if principal in MATRIX[key]:
        return 404 if key in MISSING else "ok"
    if principal in REFUSALS.get(key, {}):
        return REFUSALS[key][principal]
    if rule.endpoint.startswith("api."):
        return 403 if principal == "api" else 401
    if rule.rule.startswith(LINK_PREFIXES):
        return 404
    return 403 if principal in ROLES else "login"


def routes(app):
    """(rule, method) for every route of the app, HEAD and OPTIONS aside."""
    return [(rule, method) for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


@pytest.fixture(scope="module")
def world(demo_app):
    """The demo firm, its objects and a logged-in client per principal (once per database)."""
    demo_app.config["RATE_LIMIT_BAD_TOKENS"] = (10**6, 900)  # dead tokens are sent on purpose here
    install_dry_run(demo_app)
    found = build_world(demo_app)
    found.clients = clients(demo_app, found)
    return found


def test_every_route_is_in_the_matrix(demo_app):
    """Each endpoint and method of the URL map is classified, and MATRIX names no route that is gone."""
    present = {f"{rule.endpoint} {method}" for rule, method in routes(demo_app)}
    assert sorted(present - set(MATRIX)) == [], "classify these routes in MATRIX"
    assert sorted(set(MATRIX) - present) == [], "these routes are gone"
    assert all(principal in EVERYONE for allowed in MATRIX.values() for principal in allowed)


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_principal_gets_what_the_matrix_says(demo_app, world, principal):
    """Every route, for one principal: the declared outcome, from a real request."""
    client = world.clients[principal]
    postgres = demo_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    wrong = []
    for rule, method in routes(demo_app):
        key = f"{rule.endpoint} {method}"
        want = expected(rule, method, principal)
        first = want == "ok" and next(p for p in PRINCIPALS if p in MATRIX[key]) == principal
        if want == "ok" and not first and (rule.rule.endswith(".pdf") or postgres):
            continue
        got, _response = send(world, client, rule, method, principal, partial=not first)
        if got != want:
            wrong.append(f"{key} {rule.rule}: {got} (declared {want})")
    assert wrong == [], "\n".join(wrong)


# --- object scope: a link or a person for one order or shipment sees nothing of another's -----------

def _token(demo_app, purpose: str, object_id: int) -> str:
    """The token of the newest link for purpose on object_id (live, or used: a signed receipt's)."""
    from webapp.extensions import db
    from webapp.links import AccessLink
    with demo_app.app_context(), demo_app.test_request_context("/"):
        return db.session.scalars(db.select(AccessLink).where(
            AccessLink.purpose == purpose, AccessLink.object_id == object_id, AccessLink.revoked_at.is_(None))
            .order_by(AccessLink.id.desc())).first().token


def _status(world, client, method: str, url: str) -> int:
    """The status of a dry-run request (rolled back at its end)."""
    headers = {"X-Matrix-Dry-Run": "1"}
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, headers=headers, data={"csrf_token": client.csrf_token(), "body": "hello"})
    response.close()
    return response.status_code


def test_a_customer_link_opens_its_own_orders_objects_only(demo_app, world):
    """The service link of order A opens A's shipments' delivery notes and A's tickets, and gets 404 for
    order B's shipment, ticket and shipment document through the same URLs; B's link gets 404 for A's."""
    own = world.links["customer"]                  # order A (10): shipment 14, ticket 4
    other = _token(demo_app, "order_service", 13)  # order B (13): shipments 15 and 16
    client = world.clients["anonymous"]
    assert _status(world, client, "GET", f"/c/{own}/shipments/14/delivery-note.pdf") == 200
    assert _status(world, client, "POST", f"/c/{own}/tickets/4/reply") not in (403, 404)
    for method, url in (("GET", f"/c/{own}/shipments/15/delivery-note.pdf"),
                        ("GET", f"/c/{other}/shipments/14/delivery-note.pdf"),
                        ("POST", f"/c/{own}/tickets/1/reply"), ("POST", f"/c/{own}/tickets/1/confirm"),
                        ("POST", f"/aftersales/c/{own}/tickets/1/reply"),
                        ("GET", f"/c/{own}/documents/1"),  # shipment 15's document (order B)
                        ("GET", f"/c/{own}/receipt/photos/4"), ("GET", f"/c/{own}/receipt-copy.pdf")):
        assert _status(world, client, method, url) == 404, url


def test_a_courier_or_receipt_link_opens_its_own_shipments_files_only(demo_app, world):
    """The receipt photos and copy of shipment 12 open through shipment 12's receipt link only: the
    courier link of shipment 14 and the receipt link of another shipment get 404 for them."""
    receipt = _token(demo_app, "delivery_receipt", 12)   # photos 4 and 5 are of this receipt
    another_receipt = _token(demo_app, "delivery_receipt", 11)
    courier = world.links["courier_link"]                 # shipment 14
    client = world.clients["anonymous"]
    assert _status(world, client, "GET", f"/c/{receipt}/receipt/photos/4") == 200
    assert _status(world, client, "GET", f"/c/{receipt}/receipt-copy.pdf") == 200
    for url in (f"/c/{courier}/receipt/photos/4", f"/c/{another_receipt}/receipt/photos/4",
                f"/c/{another_receipt}/receipt/photos/5", f"/c/{courier}/receipt-copy.pdf",
                f"/c/{courier}/shipments/12/delivery-note.pdf"):
        assert _status(world, client, "GET", url) == 404, url


SCOPED = {"order_id", "shipment_id", "customer_id"}


def test_a_sales_rep_restricted_to_their_customers_gets_404_on_another_reps_order(demo_app, world):
    """With "sales reps see only their own customers" on, every page, fragment, file and export (and
    every action) that sales may use on an order, its shipments or its customer answers 404 to the rep
    who does not own that customer (wang.fang), and is let through for the one who does (lucy)."""
    from webapp.demo import DEMO_PASSWORD
    from webapp.extensions import db
    from webapp.firm import get_settings
    owner = demo_app.test_client()
    assert owner.post("/login", data={"username": "lucy", "password": DEMO_PASSWORD}).status_code == 303
    stranger = world.clients["sales"]
    with demo_app.app_context():
        get_settings().sales_own_customers_only = True
        db.session.commit()
    checked, wrong = 0, []
    try:
        for rule, method in routes(demo_app):
            key = f"{rule.endpoint} {method}"
            params = set(rule.arguments)
            if "sales" not in MATRIX[key] or not params or not params <= SCOPED or key in MISSING:
                continue
            if any((rule.endpoint, name) in world.special for name in params):
                continue  # the URL names another order than A (a draft, a project, a retail order)
            for client, want in ((stranger, "hidden"), (owner, "shown")):
                got, _response = send(world, client, rule, method, "sales")
                if (got == 404) != (want == "hidden"):
                    wrong.append(f"{key} {rule.rule}: {got} for the {'other' if want == 'hidden' else 'own'} rep")
            checked += 1
    finally:
        with demo_app.app_context():
            get_settings().sales_own_customers_only = False
            db.session.commit()
    assert wrong == [], "\n".join(wrong)
    assert checked > 20
